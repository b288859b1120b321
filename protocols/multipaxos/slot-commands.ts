/**
 * A slot → command table kept off the JavaScript heap (issue 13: a GC pause in proportion to the
 * live heap). Between two compactions a replica with a million keys holds the commands of a few
 * hundred thousand client writes twice: as its acceptor's pvalues (PMMC `accepted`) and as its
 * replica's `decisions`. As objects, each write costs a Uint8Array (and each slot a Command, a
 * payload array and a PValue), and every full collection marks them all.
 *
 * Here a slot is one row of typed-array columns (kind, where its payloads are packed, how many),
 * plus two references to ballots (a pvalue's ballot and the command's origin), which are shared by
 * every row of one leadership. The payload bytes are packed into chunks (command-chunks.ts). Rows
 * of forgotten slots are reused through a free list; `rowOf` maps a slot to its row and iterates
 * in the order slots were first set, as a Map of the commands would.
 *
 * `command(slot)` builds a fresh Command whose payloads are views into a chunk: they stay valid
 * after the slot is forgotten.
 */
import { invariant } from '../common/invariant.js';
import { sameBallot } from './ballot.js';
import { CommandChunks } from './command-chunks.js';
import type { Ballot, Command } from './types.js';

const KINDS: readonly Command['kind'][] = ['noop', 'batch'];
const KIND_CODE: Record<Command['kind'], number> = { noop: 0, batch: 1 };
const FIRST_ROWS = 64;

export class SlotCommands {
  private readonly rowOf = new Map<number, number>();
  private kinds = new Uint8Array(FIRST_ROWS);
  private chunkIds = new Uint32Array(FIRST_ROWS);
  private offsets = new Uint32Array(FIRST_ROWS);
  private lengths = new Uint32Array(FIRST_ROWS);
  private ballots: (Ballot | undefined)[] = new Array<Ballot | undefined>(FIRST_ROWS);
  private origins: (Ballot | undefined)[] = new Array<Ballot | undefined>(FIRST_ROWS);
  /** Rows free for reuse (a stack), and the first row never used yet. */
  private free: number[] = [];
  private fresh = 0;
  private recent: Ballot[] = [];
  private readonly bytes = new CommandChunks();

  get size(): number {
    return this.rowOf.size;
  }

  /** How many payload chunks are held (for tests: forgotten slots free their chunks). */
  get chunkCount(): number {
    return this.bytes.chunkCount;
  }

  has(slot: number): boolean {
    return this.rowOf.has(slot);
  }

  /** The slots held, in the order they were first set. */
  slots(): IterableIterator<number> {
    return this.rowOf.keys();
  }

  /** A fresh copy of the command at `slot`, its payloads views into a chunk. */
  command(slot: number): Command | undefined {
    const row = this.rowOf.get(slot);
    if (row === undefined) return undefined;
    const payloads = this.bytes.unpack(this.chunkIds[row] as number, this.offsets[row] as number, this.lengths[row] as number);
    return { kind: KINDS[this.kinds[row] as number] as Command['kind'], origin: this.origins[row] as Ballot, payloads };
  }

  /** The ballot stored with the command at `slot` (an acceptor's pvalue ballot). */
  ballot(slot: number): Ballot | undefined {
    const row = this.rowOf.get(slot);
    return row === undefined ? undefined : this.ballots[row];
  }

  /** Holds a copy of `command` (and `ballot`) at `slot`, replacing what was there. */
  set(slot: number, command: Command, ballot: Ballot = command.origin): void {
    const held = this.rowOf.get(slot);
    if (held !== undefined) this.release(held);
    const row = held ?? this.takeRow();
    const packed = this.bytes.pack(command.payloads);
    this.kinds[row] = KIND_CODE[command.kind];
    this.chunkIds[row] = packed.chunk;
    this.offsets[row] = packed.offset;
    this.lengths[row] = packed.length;
    this.ballots[row] = this.shared(ballot);
    this.origins[row] = this.shared(command.origin);
    this.rowOf.set(slot, row);
  }

  /** Forgets every slot <= `slot` (garbage collection behind a snapshot). */
  deleteThrough(slot: number): void {
    for (const [s, row] of this.rowOf) {
      if (s > slot) continue;
      this.release(row);
      this.rowOf.delete(s);
      this.free.push(row);
    }
  }

  /** Lets go of a row's payloads and ballots (its row is then reused or refilled). */
  private release(row: number): void {
    this.bytes.release(this.chunkIds[row] as number);
    this.ballots[row] = undefined;
    this.origins[row] = undefined;
  }

  private takeRow(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.fresh === this.kinds.length) this.grow();
    return this.fresh++;
  }

  /**
   * Rows of one leadership carry equal ballots, but each decoded message brings its own ballot
   * objects: keep the last two distinct ones seen, so that rows share a few ballots instead of
   * holding one object each (ballots are never changed in place).
   */
  private shared(ballot: Ballot): Ballot {
    for (const known of this.recent) if (sameBallot(known, ballot)) return known;
    this.recent.unshift(ballot);
    if (this.recent.length > 2) this.recent.pop();
    return ballot;
  }

  private grow(): void {
    const size = this.kinds.length * 2;
    invariant(size <= 2 ** 31, () => `slot table of ${size} rows`);
    this.kinds = grown(this.kinds, new Uint8Array(size));
    this.chunkIds = grown(this.chunkIds, new Uint32Array(size));
    this.offsets = grown(this.offsets, new Uint32Array(size));
    this.lengths = grown(this.lengths, new Uint32Array(size));
    this.ballots.length = size;
    this.origins.length = size;
  }
}

function grown<T extends Uint8Array | Uint32Array>(column: T, into: T): T {
  into.set(column as never);
  return into;
}
