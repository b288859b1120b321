/**
 * A small deterministic in-memory cluster for the unit tests: FIFO delivery, instant persistence,
 * links that can be cut, and replicas that can crash and restart from their simulated disk. Every
 * replica is driven exactly through the Ready contract (types.ts).
 */
import { joinChunks, splitChunks } from '../../common/sim/snapshot-bytes.js';
import { SeededRng } from '../../common/rng.js';
import { RaftNode } from '../raft-node.js';
import type {
  AppendEntries,
  HardState,
  LogEntry,
  NodeId,
  RaftConfig,
  RaftMessage,
  ReadState,
  Ready,
  RequestVote,
  Snapshot,
} from '../types.js';

export interface Disk {
  hardState: HardState;
  /** Contiguous; may start after 1 once compacted (Raft §7). */
  entries: LogEntry[];
  snapshot?: Snapshot | null;
  /** The chunks of stored and partly received snapshots, by snapshot index (Raft §7). */
  chunks?: Map<number, Uint8Array[]>;
}

/** A snapshot as the test runtime installed it: the descriptor and its chunks, joined. */
export type InstalledSnapshot = Snapshot & { data: Uint8Array };

/** Splitting a state machine's bytes into chunks as a runtime writes a snapshot, and joining them. */
export { joinChunks, splitChunks };

/** Stores a snapshot's bytes on `disk` as the runtime would, in chunks; returns its descriptor. */
export function storeSnapshot(disk: Disk, snapshot: Omit<Snapshot, 'chunks'>, data: Uint8Array, chunkBytes = 1 << 20): Snapshot {
  const chunks = splitChunks(data, chunkBytes);
  (disk.chunks ??= new Map()).set(snapshot.index, chunks);
  const stored: Snapshot = { ...snapshot, chunks: chunks.length };
  disk.snapshot = stored;
  return stored;
}

/** A stored snapshot's bytes, joined (the test runtime's "restore from its chunks"). */
export function snapshotBytes(disk: Disk, index: number): Uint8Array {
  return joinChunks(disk.chunks?.get(index) ?? []);
}

export const TEST_CONFIG: Omit<RaftConfig, 'id' | 'voters'> = {
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 3,
  preVote: true,
  checkQuorum: true,
  maxAppendBytes: 1 << 20,
  maxInflightAppends: 4,
};

export function emptyDisk(): Disk {
  return { hardState: { currentTerm: 0, votedFor: null, commitIndex: 0 }, entries: [] };
}

/** Builds a log from a list of terms: [1, 1, 2] is 1@1, 2@1, 3@2 (no-op entries). */
export function logOfTerms(terms: number[]): LogEntry[] {
  return terms.map((term, k) => ({ index: k + 1, term, kind: 'noop', data: null }));
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(entry: LogEntry | undefined): string | null {
  return entry?.data ? new TextDecoder().decode(entry.data) : null;
}

/** Applies one Ready to a disk as the runtime would: chunks, snapshot, hard state, compaction, truncation, appends. */
export function persist(disk: Disk, rd: Ready): void {
  for (const c of rd.snapshotChunks) {
    const chunks = (disk.chunks ??= new Map()).get(c.index) ?? [];
    chunks[c.chunk] = c.data;
    disk.chunks.set(c.index, chunks);
  }
  if (rd.snapshot !== null) disk.snapshot = rd.snapshot;
  if (rd.hardState !== null) disk.hardState = { ...rd.hardState };
  const compactTo = rd.compactTo;
  if (compactTo !== null) disk.entries = disk.entries.filter((entry) => entry.index > compactTo);
  const truncateFrom = rd.truncateFrom;
  if (truncateFrom !== null) disk.entries = disk.entries.filter((entry) => entry.index < truncateFrom);
  for (const entry of rd.entries) disk.entries.push(entry);
}

/** What a replica restarts from: its disk, copied. */
export function restoredFrom(disk: Disk): { hardState: HardState; entries: LogEntry[]; snapshot: Snapshot | null } {
  return { hardState: { ...disk.hardState }, entries: disk.entries.slice(), snapshot: disk.snapshot ?? null };
}

export class TestCluster {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly disks = new Map<NodeId, Disk>();
  readonly applied = new Map<NodeId, LogEntry[]>();
  /** Snapshots each replica installed from a leader (Ready.snapshot), in order, with their bytes. */
  readonly installed = new Map<NodeId, InstalledSnapshot[]>();
  /** The size of the chunks a replica stores its snapshots in (a runtime setting, not the core's). */
  snapshotChunkBytes = 1 << 20;
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly readsFailed = new Map<NodeId, number[]>();
  /** Every message handed to the network, in order (also the dropped ones). */
  readonly sent: RaftMessage[] = [];
  /** Return true to drop a message. */
  drop: (m: RaftMessage) => boolean = () => false;
  /**
   * Paused replicas (a SIGSTOPped process): not ticked, their Readys wait, and messages to them
   * are held here instead of delivered, for the test to deliver in whatever order it likes.
   */
  readonly paused = new Set<NodeId>();
  readonly held: RaftMessage[] = [];
  private queue: RaftMessage[] = [];
  private readonly down = new Set<NodeId>();
  private readonly cut = new Set<string>();
  private restarts = 0;

  constructor(
    size: number,
    readonly overrides: Partial<RaftConfig> = {},
    disks: Record<NodeId, Disk> = {},
    private readonly seed = 1,
  ) {
    this.ids = Array.from({ length: size }, (_, k) => `n${k + 1}`);
    for (const id of this.ids) {
      this.disks.set(id, disks[id] ?? emptyDisk());
      this.start(id);
    }
  }

  node(id: NodeId): RaftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** `overrides.voters` sets the bootstrap configuration (default: every replica). */
  config(id: NodeId): RaftConfig {
    return { ...TEST_CONFIG, ...this.overrides, id, voters: this.overrides.voters ?? this.ids };
  }

  appliedOf(id: NodeId): LogEntry[] {
    return this.applied.get(id) ?? [];
  }

  /** The live leader with the highest term, if any. */
  leader(): NodeId | null {
    let best: RaftNode | null = null;
    for (const [id, node] of this.nodes) {
      if (this.down.has(id) || node.role !== 'leader') continue;
      if (best === null || node.term > best.term) best = node;
    }
    return best?.id ?? null;
  }

  tick(id: NodeId, times = 1): void {
    for (let k = 0; k < times; k++) this.node(id).tick();
  }

  /** Ticks every live node `times` times, letting messages settle after each tick. */
  tickAll(times = 1): void {
    for (let k = 0; k < times; k++) {
      for (const id of this.ids) if (!this.down.has(id) && !this.paused.has(id)) this.node(id).tick();
      this.stabilize();
    }
  }

  /** Ticks `id` until it starts a (pre-)election, then lets the cluster settle. */
  campaign(id: NodeId): void {
    const node = this.node(id);
    for (let k = 0; k < 2 * this.config(id).electionTimeoutTicks && node.role === 'follower'; k++) node.tick();
    this.stabilize();
  }

  /** Runs one Ready cycle on `id`: send, persist, send after persist, apply, advance. */
  processReady(id: NodeId): Ready | null {
    const node = this.node(id);
    if (this.down.has(id) || this.paused.has(id) || !node.hasReady()) return null;
    const rd = node.ready();
    const disk = this.disks.get(id) as Disk;
    this.send(rd.messages.flatMap((m) => withChunk(m, disk)));
    persist(disk, rd);
    this.send(rd.messagesAfterPersist);
    if (rd.snapshot !== null) {
      this.installed.set(id, [...(this.installed.get(id) ?? []), { ...rd.snapshot, data: snapshotBytes(disk, rd.snapshot.index) }]);
      this.applied.set(id, []); // the state machine is reset from the snapshot
    }
    this.applied.set(id, [...this.appliedOf(id), ...rd.committed]);
    this.readStates.set(id, [...(this.readStates.get(id) ?? []), ...rd.readStates]);
    this.readsFailed.set(id, [...(this.readsFailed.get(id) ?? []), ...rd.readsFailed]);
    node.advance(rd);
    return rd;
  }

  /** Processes every pending Ready; true if any. */
  flush(): boolean {
    let any = false;
    for (const id of this.ids) if (this.processReady(id) !== null) any = true;
    return any;
  }

  /** Delivers the oldest queued message; false when the queue is empty. */
  deliverOne(): boolean {
    const m = this.queue.shift();
    if (m === undefined) return false;
    if (this.paused.has(m.to)) this.held.push(m);
    else if (!this.down.has(m.to) && !this.cut.has(`${m.from}>${m.to}`)) this.node(m.to).step(m);
    return true;
  }

  /** Delivers messages and processes Readys until nothing moves. */
  stabilize(maxSteps = 100_000): void {
    for (let k = 0; k < maxSteps; k++) {
      const flushed = this.flush();
      if (!this.deliverOne() && !flushed) return;
    }
    throw new Error('cluster did not stabilize');
  }

  /** Queued messages not yet delivered. */
  pending(): readonly RaftMessage[] {
    return this.queue;
  }

  takePending(): RaftMessage[] {
    const taken = this.queue;
    this.queue = [];
    return taken;
  }

  /**
   * Raft §7 as the runtime does it: save a snapshot of `id`'s state machine at `index` (its bytes:
   * `data`) to its disk, then tell the core. Returns what `compact` returned.
   */
  compact(id: NodeId, index: number, data: Uint8Array = bytes(`snapshot@${index}`)): boolean {
    const node = this.node(id);
    const disk = this.disks.get(id) as Disk;
    if (index <= node.snapshotIndex) return node.compact(index, splitChunks(data, this.snapshotChunkBytes).length);
    const term = node.entryAt(index)?.term;
    if (term === undefined) throw new Error(`${id} has no entry ${index}`);
    const stored = storeSnapshot(disk, { index, term, membership: node.membershipAt(index) }, data, this.snapshotChunkBytes);
    return node.compact(index, stored.chunks);
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) if (other !== id) this.cutLink(id, other);
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Loses everything not persisted (nothing here: persistence is instant) and all queued input. */
  crash(id: NodeId): void {
    this.down.add(id);
  }

  restart(id: NodeId): void {
    this.down.delete(id);
    this.restarts++;
    this.applied.set(id, []);
    this.start(id);
  }

  private start(id: NodeId): void {
    const disk = this.disks.get(id) as Disk;
    const rng = new SeededRng(this.seed * 1000 + this.ids.indexOf(id) + 100 * this.restarts);
    this.nodes.set(id, new RaftNode(this.config(id), rng, restoredFrom(disk)));
  }

  private send(messages: RaftMessage[]): void {
    for (const m of messages) {
      this.sent.push(m);
      if (this.cut.has(`${m.from}>${m.to}`) || this.drop(m)) continue;
      this.queue.push(m);
    }
  }
}

/**
 * Ready contract step 1: an InstallSnapshot goes out with its chunk's bytes from the sender's
 * stored snapshot; none if that snapshot is gone (the message is dropped).
 */
function withChunk(m: RaftMessage, disk: Disk): RaftMessage[] {
  if (m.type !== 'InstallSnapshot') return [m];
  const data = disk.chunks?.get(m.lastIncludedIndex)?.[m.chunk];
  return data === undefined ? [] : [{ ...m, data }];
}

/** A lone replica of a cluster of `voters`, restored from `disk`, for crafted-message tests. */
export function soloNode(
  id: NodeId,
  voters: NodeId[],
  overrides: Partial<RaftConfig> = {},
  disk: Disk = emptyDisk(),
  seed = 7,
): RaftNode {
  const config: RaftConfig = { ...TEST_CONFIG, ...overrides, id, voters };
  return new RaftNode(config, new SeededRng(seed), restoredFrom(disk));
}

/** One full Ready cycle on a lone node (persisting into `disk` if given); returns the Ready. */
export function cycle(node: RaftNode, disk?: Disk): Ready {
  const rd = node.ready();
  if (disk !== undefined) persist(disk, rd);
  node.advance(rd);
  return rd;
}

/** All messages of a Ready, in sending order. */
export function allMessages(rd: Ready): RaftMessage[] {
  return [...rd.messages, ...rd.messagesAfterPersist];
}

export function ofType<T extends RaftMessage['type']>(
  messages: readonly RaftMessage[],
  type: T,
): Extract<RaftMessage, { type: T }>[] {
  return messages.filter((m): m is Extract<RaftMessage, { type: T }> => m.type === type);
}

/** An AppendEntries from `from` to `to` (fields default to a heartbeat at the start of the log). */
export function appendEntries(
  from: NodeId,
  to: NodeId,
  fields: Partial<Omit<AppendEntries, 'type' | 'from' | 'to'>>,
): AppendEntries {
  return { type: 'AppendEntries', from, to, term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0, ...fields };
}

export function requestVote(
  from: NodeId,
  to: NodeId,
  fields: Partial<Omit<RequestVote, 'type' | 'from' | 'to'>>,
): RequestVote {
  return { type: 'RequestVote', from, to, term: 1, lastLogIndex: 0, lastLogTerm: 0, preVote: false, ...fields };
}

/** Entries index..index+terms.length-1 with the given terms and text payloads. */
export function entriesFrom(index: number, terms: number[]): LogEntry[] {
  return terms.map((term, k) => ({ index: index + k, term, kind: 'command', data: bytes(`e${index + k}@${term}`) }));
}
