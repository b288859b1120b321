/**
 * The safety properties the simulation checks after every step: Raft's Figure 3 (election safety,
 * log matching, leader completeness, state machine safety), "no committed entry is ever lost or
 * changed", and linearizable ReadIndex reads. Each check is incremental (work proportional to
 * what changed), so it can run after every event.
 */
import { samePayload } from '../../common/sim/payload.js';
import type { LogEntry, NodeId } from '../types.js';

export type Fail = (message: string) => never;

interface Committed {
  entry: LogEntry;
  /** The lowest term of any replica seen holding it committed: it was committed in this term or before. */
  commitTerm: number;
}

interface Registered {
  entry: LogEntry;
  prevTerm: number;
}

/** Read access to a replica's log, as the checker needs it. */
export type EntryAt = (index: number) => LogEntry | undefined;

const TERM_LIMIT = 1_000_000;

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Every (index, term) ever persisted: its content and the term of the entry before it. */
  private readonly registry = new Map<number, Registered>();
  /** committed[i - 1]: the entry committed at index i. */
  private readonly committed: Committed[] = [];
  /** stateHashAt[i]: the state machine after applying index i. */
  private readonly stateHashAt: number[] = [0];
  /** Highest index acknowledged as committed to a client. */
  highestAcked = 0;

  constructor(private readonly fail: Fail) {}

  get committedCount(): number {
    return this.committed.length;
  }

  committedEntry(index: number): LogEntry | undefined {
    return this.committed[index - 1]?.entry;
  }

  /**
   * Figure 3, Election Safety: at most one leader can be elected in a given term. The caller
   * reports a leader once its term and vote are durable, when it first can act as leader.
   */
  observeLeader(id: NodeId, term: number): void {
    const known = this.leaderOfTerm.get(term);
    if (known === undefined) this.leaderOfTerm.set(term, id);
    else if (known !== id) this.fail(`election safety: ${known} and ${id} are both leaders of term ${term}`);
  }

  get leaderTerms(): number {
    return this.leaderOfTerm.size;
  }

  /**
   * Figure 3, Leader Completeness: a leader of term T holds every entry committed in a term < T.
   * Checks committed indexes from..to against the leader's log.
   */
  checkLeaderHas(id: NodeId, term: number, entryAt: EntryAt, from = 1, to = this.committed.length): void {
    for (let index = from; index <= to; index++) {
      const known = this.committed[index - 1] as Committed;
      if (known.commitTerm >= term) continue;
      if (!sameEntry(entryAt(index), known.entry)) {
        this.fail(`leader completeness: leader ${id} of term ${term} lacks committed entry ${describe(known.entry)}`);
      }
    }
  }

  /**
   * No committed entry is ever lost or changed: `entry` is committed at `index` on replica `id`
   * (whose term is `observerTerm`); it must equal whatever was seen committed there before.
   * Returns true if the index was not known to be committed yet.
   */
  observeCommitted(id: NodeId, index: number, entry: LogEntry | undefined, observerTerm: number): boolean {
    if (entry === undefined || entry.index !== index) {
      return this.fail(`${id}: commitIndex covers ${index} but its log has no such entry`);
    }
    const known = this.committed[index - 1];
    if (known !== undefined) {
      if (!sameEntry(known.entry, entry)) {
        this.fail(`state machine safety: ${id} committed ${describe(entry)} where ${describe(known.entry)} was committed`);
      }
      known.commitTerm = Math.min(known.commitTerm, observerTerm);
      return false;
    }
    if (index !== this.committed.length + 1) this.fail(`${id}: committed ${index} past a gap`);
    this.committed.push({ entry, commitTerm: observerTerm });
    return true;
  }

  /**
   * Figure 3, Log Matching, checked on every persisted entry: an (index, term) always has the same
   * content and the same term before it, so by induction two logs holding it agree up to there.
   * `disk` is contiguous and may start after index 1 (compacted, Raft §7); `before` is the index and
   * term of what precedes disk[0] on that disk (the snapshot's last entry), if known. Checks the
   * entries from index `fromIndex` on.
   */
  observePersisted(id: NodeId, disk: readonly LogEntry[], fromIndex: number, before: { index: number; term: number } | null = null): void {
    const first = disk[0]?.index ?? 1;
    for (let k = Math.max(0, fromIndex - first); k < disk.length; k++) {
      const entry = disk[k] as LogEntry;
      const index = first + k;
      if (entry.index !== index) this.fail(`${id}: disk holds ${describe(entry)} at position ${index}`);
      if (entry.term >= TERM_LIMIT) this.fail(`term ${entry.term} too large for the checker`);
      let prevTerm: number | null;
      if (k > 0) prevTerm = (disk[k - 1] as LogEntry).term;
      else if (index === 1) prevTerm = 0;
      else prevTerm = before !== null && before.index === index - 1 ? before.term : null;
      const key = index * TERM_LIMIT + entry.term;
      const known = this.registry.get(key);
      if (known === undefined) {
        if (prevTerm !== null) this.registry.set(key, { entry, prevTerm });
      } else if ((prevTerm !== null && known.prevTerm !== prevTerm) || !sameEntry(known.entry, entry)) {
        this.fail(`log matching: ${id} persisted ${describe(entry)} after term ${prevTerm}, another log has ` +
          `${describe(known.entry)} after term ${known.prevTerm}`);
      }
    }
  }

  /** State machine safety: every replica's state after applying `index` is the same. */
  observeApplied(id: NodeId, entry: LogEntry, stateHash: number): void {
    const committed = this.committedEntry(entry.index);
    if (!sameEntry(committed, entry)) {
      this.fail(`${id} applied ${describe(entry)}, but ${committed ? describe(committed) : 'nothing'} is committed there`);
    }
    const known = this.stateHashAt[entry.index];
    if (known === undefined) this.stateHashAt[entry.index] = stateHash;
    else if (known !== stateHash) this.fail(`state machines diverge at index ${entry.index} (${id})`);
  }

  /**
   * Raft §7: replica `id` holds (made, stored, installed or restarted from) a snapshot of its state
   * machine after `index`, whose last entry has `term`: `index` must be committed with that term,
   * and the state must be the one every replica had after applying `index`.
   */
  observeSnapshot(id: NodeId, index: number, term: number, stateHash: number): void {
    const committed = this.committedEntry(index);
    if (committed === undefined) this.fail(`${id}: snapshot at ${index}, beyond everything committed (${this.committed.length})`);
    if (committed.term !== term) this.fail(`${id}: snapshot at ${index}@${term}, but ${describe(committed)} is committed there`);
    const known = this.stateHashAt[index];
    if (known === undefined) this.stateHashAt[index] = stateHash;
    else if (known !== stateHash) this.fail(`state machines diverge at index ${index} (${id}'s snapshot)`);
  }

  /** A client learned that its command at `index` is committed. */
  acknowledge(index: number): void {
    if (index > this.highestAcked) this.highestAcked = index;
  }

  /**
   * Linearizable reads (dissertation §6.4): a read answered at `index` must see every write
   * acknowledged to any client before the read was requested (`ackedAtRequest`).
   */
  checkRead(id: NodeId, ctx: number, index: number, ackedAtRequest: number, commitIndex: number): void {
    if (index < ackedAtRequest) {
      this.fail(`linearizability: read ${ctx} on ${id} got read index ${index}, but ${ackedAtRequest} was acknowledged before it was requested`);
    }
    if (index > commitIndex) this.fail(`read ${ctx} on ${id}: read index ${index} beyond commitIndex ${commitIndex}`);
  }

  /** The whole Log Matching property on a set of logs, pairwise (for the end of a run). */
  checkLogsMatch(logs: ReadonlyArray<{ id: NodeId; entries: readonly LogEntry[] }>): void {
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) this.checkPair(logs[a]!, logs[b]!);
    }
  }

  /** Over the indexes both logs hold (either may start after 1, compacted). */
  private checkPair(x: { id: NodeId; entries: readonly LogEntry[] }, y: { id: NodeId; entries: readonly LogEntry[] }): void {
    const xFirst = x.entries[0]?.index ?? 1;
    const yFirst = y.entries[0]?.index ?? 1;
    const from = Math.max(xFirst, yFirst);
    const to = Math.min(xFirst + x.entries.length, yFirst + y.entries.length) - 1;
    let lastSame = from - 1;
    for (let index = from; index <= to; index++) {
      if (x.entries[index - xFirst]!.term === y.entries[index - yFirst]!.term) lastSame = index;
    }
    for (let index = from; index <= lastSame; index++) {
      if (!sameEntry(x.entries[index - xFirst], y.entries[index - yFirst])) {
        this.fail(`log matching: ${x.id} and ${y.id} agree at ${lastSame} but differ at ${index}`);
      }
    }
  }
}

export function sameEntry(a: LogEntry | undefined, b: LogEntry | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.index === b.index && a.term === b.term && a.kind === b.kind && samePayload(a.data, b.data);
}

function describe(entry: LogEntry): string {
  return `${entry.index}@${entry.term}(${entry.kind}${entry.data ? `:${entry.data.byteLength}b` : ''})`;
}

/** The state machine of the simulation: a running FNV-1a hash of the applied payloads. */
export function applyToHash(hash: number, entry: LogEntry): number {
  if (entry.data === null) return hash;
  let h = (hash ^ 0x811c9dc5) >>> 0;
  for (let k = 0; k < entry.data.byteLength; k++) {
    h ^= entry.data[k] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
