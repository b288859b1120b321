/**
 * The in-memory cluster a transcript drives: replicas with simulated disks, and one FIFO queue of
 * messages that the transcript delivers, drops or loses on cut links, message by message. Unlike
 * sim/test-cluster.ts (whose helpers it reuses) nothing moves by itself: every delivery is a
 * transcript command, so the output shows each RPC of the Raft paper (Ongaro and Ousterhout 2014,
 * Figure 2) as it happens. Every replica is driven strictly through the Ready contract (types.ts):
 * send `messages`, persist, send `messagesAfterPersist`, apply, `advance`.
 */
import { SeededRng } from '../../common/rng.js';
import { RaftNode } from '../raft-node.js';
import { emptyDisk, persist, restoredFrom, TEST_CONFIG, type Disk } from '../sim/test-cluster.js';
import type { NodeId, RaftConfig, RaftMessage, Ready } from '../types.js';
import { formatEntries, formatStatus, kindOf, type StatusLine } from './format.js';

interface Replica {
  /** null while crashed. */
  node: RaftNode | null;
  disk: Disk;
  /** Restarts so far: the replica's RaftConfig.incarnation, and part of its rng seed. */
  restarts: number;
}

/** Which queued messages a command means; an absent field matches everything. */
export interface MessageFilter {
  from?: Set<NodeId>;
  to?: Set<NodeId>;
  type?: Set<string>;
}

export class TranscriptCluster {
  private readonly replicas = new Map<NodeId, Replica>();
  private queue: RaftMessage[] = [];
  /** Cut links, both directions: `a>b`. */
  private readonly cuts = new Set<string>();

  constructor(
    readonly ids: NodeId[],
    private readonly overrides: Partial<RaftConfig>,
    private readonly seed: number,
  ) {
    for (const id of ids) this.replicas.set(id, { node: null, disk: emptyDisk(), restarts: 0 });
    for (const id of ids) this.start(id);
  }

  replica(id: NodeId): Replica {
    const r = this.replicas.get(id);
    if (r === undefined) throw new Error(`no replica ${id} (replicas: ${this.ids.join(',')})`);
    return r;
  }

  /** The live replica `id`; throws if it is crashed. */
  node(id: NodeId): RaftNode {
    const node = this.replica(id).node;
    if (node === null) throw new Error(`replica ${id} is down`);
    return node;
  }

  config(id: NodeId): RaftConfig {
    return { ...TEST_CONFIG, ...this.overrides, id, voters: this.ids, incarnation: this.replica(id).restarts };
  }

  /** Replaces `id`'s disk (a log and hard state written before the scenario) and starts it from it. */
  setDisk(id: NodeId, disk: Disk): void {
    this.replica(id).disk = disk;
    this.discard((m) => m.from === id || m.to === id);
    this.start(id);
  }

  /** Raft §5.1: a server restarts from what is on its disk; nothing else survives. */
  start(id: NodeId): void {
    const r = this.replica(id);
    const rng = new SeededRng(this.seed * 1000 + this.ids.indexOf(id) + 100 * r.restarts);
    r.node = new RaftNode(this.config(id), rng, restoredFrom(r.disk));
  }

  /** A crash: the replica stops; its messages still queued are lost. Returns them. */
  crash(id: NodeId): RaftMessage[] {
    this.node(id);
    this.replica(id).node = null;
    return this.discard((m) => m.from === id);
  }

  restart(id: NodeId): void {
    if (this.replica(id).node !== null) throw new Error(`replica ${id} is not down`);
    this.replica(id).restarts++;
    this.start(id);
  }

  cut(a: NodeId, b: NodeId): void {
    this.replica(a);
    this.replica(b);
    this.cuts.add(`${a}>${b}`).add(`${b}>${a}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  pending(filter: MessageFilter = {}): RaftMessage[] {
    return this.queue.filter((m) => matches(m, filter));
  }

  /** Removes the queued messages `pred` selects; returns them, in queue order. */
  discard(pred: (m: RaftMessage) => boolean): RaftMessage[] {
    const gone = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    return gone;
  }

  /** Takes the oldest queued message the filter selects, if any. */
  take(filter: MessageFilter): RaftMessage | undefined {
    const k = this.queue.findIndex((m) => matches(m, filter));
    return k < 0 ? undefined : this.queue.splice(k, 1)[0];
  }

  /** Why `m` cannot be delivered (a cut link, a crashed recipient), or null if it can. */
  lost(m: RaftMessage): string | null {
    if (this.cuts.has(`${m.from}>${m.to}`)) return `link ${m.from}-${m.to} cut`;
    if ((this.replicas.get(m.to)?.node ?? null) === null) return `${m.to} is down`;
    return null;
  }

  /** Processes every live replica's Readys until none is left; returns what they did, as lines. */
  flush(): string[] {
    const events: string[] = [];
    for (const id of this.ids) {
      const node = this.replica(id).node;
      for (let k = 0; node !== null && node.hasReady(); k++) {
        if (k > 100) throw new Error(`replica ${id} keeps producing Readys`);
        events.push(...this.processReady(id, node));
      }
    }
    return events;
  }

  /** One Ready cycle (the contract in types.ts, steps 1-5); returns the events worth printing. */
  private processReady(id: NodeId, node: RaftNode): string[] {
    const rd = node.ready();
    const events = describeReady(id, rd);
    this.queue.push(...rd.messages);
    persist(this.replica(id).disk, rd);
    this.queue.push(...rd.messagesAfterPersist);
    node.advance(rd);
    return events;
  }

  status(id: NodeId): string {
    const { node, disk } = this.replica(id);
    let line: StatusLine;
    if (node === null) {
      line = { id, role: 'down', hardState: disk.hardState, commitIndex: disk.hardState.commitIndex, log: disk.entries };
    } else {
      const s = node.status();
      const log = [];
      for (let i = s.snapshotIndex + 1; i <= s.lastLogIndex; i++) log.push(node.entryAt(i) ?? missing(id, i));
      const hardState = { currentTerm: s.term, votedFor: s.votedFor, commitIndex: s.commitIndex };
      line = { id, role: s.role, hardState, commitIndex: s.commitIndex, log };
    }
    return formatStatus(line);
  }
}

function missing(id: NodeId, index: number): never {
  throw new Error(`replica ${id} has no entry ${index}`);
}

function matches(m: RaftMessage, f: MessageFilter): boolean {
  if (f.from !== undefined && !f.from.has(m.from)) return false;
  if (f.to !== undefined && !f.to.has(m.to)) return false;
  if (f.type !== undefined && !f.type.has(kindOf(m))) return false;
  return true;
}

/**
 * The effects of one Ready a student wants to see: a change of role or term (§5.1, §5.2), entries
 * deleted and appended (§5.3: "delete the existing entry and all that follow it"), entries applied
 * once committed (§5.3, §5.4.2). Messages are printed when delivered, not here.
 */
function describeReady(id: NodeId, rd: Ready): string[] {
  const events: string[] = [];
  const soft = rd.softState;
  if (soft !== null) {
    const leader = soft.role === 'follower' && soft.leader !== null ? ` leader=${soft.leader}` : '';
    events.push(`${id} is ${soft.role} term=${soft.term}${leader}`);
  }
  if (rd.truncateFrom !== null) events.push(`${id} deletes entries from ${rd.truncateFrom} on`);
  if (rd.entries.length > 0) events.push(`${id} appends ${formatEntries(rd.entries)}`);
  if (rd.committed.length > 0) events.push(`${id} applies ${formatEntries(rd.committed)}`);
  return events;
}
