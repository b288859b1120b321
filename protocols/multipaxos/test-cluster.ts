/**
 * A small deterministic in-memory cluster for the unit tests: FIFO delivery, instant persistence,
 * links that can be cut, replicas that crash and restart from their simulated disk. Every replica
 * is driven exactly through the Ready contract (types.ts).
 */
import { SeededRng } from '../common/rng.js';
import { ZERO_BALLOT } from './ballot.js';
import { MultiPaxosNode } from './paxos-node.js';
import type { Command, Decision, NodeId, PaxosConfig, PaxosMessage, PValue, ReadState, Ready, RestoredState, SnapshotData } from './types.js';

export const TEST_CONFIG: Omit<PaxosConfig, 'id' | 'replicas'> = {
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 2,
  window: 8,
  maxBatchBytes: 1 << 20,
  maxCatchUpSlots: 64,
};

export interface Disk {
  restored: RestoredState;
  accepted: Map<number, PValue>;
  decisions: Map<number, Command>;
  /** The stored snapshot: here the JSON of the payload texts applied through its slot. */
  snapshot: SnapshotData | null;
}

export function emptyDisk(): Disk {
  return { restored: { ballotNum: ZERO_BALLOT, accepted: [], decisions: [] }, accepted: new Map(), decisions: new Map(), snapshot: null };
}

/** The Ready's persist; `snapshot` is what the runtime stores when it compacts. */
export function persist(disk: Disk, rd: Ready, snapshot: () => SnapshotData = () => ({ slot: 0, data: new Uint8Array() })): void {
  if (rd.persist.ballotNum !== null) disk.restored.ballotNum = rd.persist.ballotNum;
  for (const pv of rd.persist.accepted) disk.accepted.set(pv.slot, pv);
  for (const d of rd.persist.decisions) disk.decisions.set(d.slot, d.command);
  const compactTo = rd.persist.compactTo;
  if (compactTo !== null) {
    disk.snapshot = rd.installSnapshot ?? snapshot();
    for (const slot of disk.accepted.keys()) if (slot <= compactTo) disk.accepted.delete(slot);
    for (const slot of disk.decisions.keys()) if (slot <= compactTo) disk.decisions.delete(slot);
    disk.restored.snapshotSlot = disk.snapshot.slot;
  }
  disk.restored.accepted = [...disk.accepted.values()];
  disk.restored.decisions = [...disk.decisions].map(([slot, command]) => ({ slot, command }));
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function texts(command: Command | undefined): string[] {
  return (command?.payloads ?? []).map((p) => new TextDecoder().decode(p));
}

export function node(id: NodeId, replicas: NodeId[], seed = 1, disk = emptyDisk(), extra: Partial<PaxosConfig> = {}): MultiPaxosNode {
  return new MultiPaxosNode({ ...TEST_CONFIG, ...extra, id, replicas }, new SeededRng(seed), disk.restored);
}

const encodeTexts = (list: string[]): Uint8Array => new TextEncoder().encode(JSON.stringify(list));
const decodeTexts = (data: Uint8Array): string[] => JSON.parse(new TextDecoder().decode(data)) as string[];

export class TestCluster {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, MultiPaxosNode>();
  readonly disks = new Map<NodeId, Disk>();
  readonly applied = new Map<NodeId, Decision[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly readsFailed = new Map<NodeId, number[]>();
  /** Payload texts covered by the last installed or restored snapshot (before `applied`). */
  readonly snapshotTexts = new Map<NodeId, string[]>();
  /** Slot of the state machine's last snapshot install or restore. */
  readonly installed = new Map<NodeId, number[]>();
  /** Snapshot messages delivered. */
  snapshotsSent = 0;
  private readonly extra: Partial<PaxosConfig>;
  /** Links that drop everything: "a->b". */
  readonly cut = new Set<string>();
  private queue: PaxosMessage[] = [];

  constructor(size: number, seed = 1, extra: Partial<PaxosConfig> = {}) {
    this.extra = extra;
    this.ids = Array.from({ length: size }, (_, k) => `n${k + 1}`);
    for (const [k, id] of this.ids.entries()) {
      this.disks.set(id, emptyDisk());
      this.snapshotTexts.set(id, []);
      this.installed.set(id, []);
      this.nodes.set(id, node(id, this.ids, seed * 100 + k, emptyDisk(), extra));
      this.applied.set(id, []);
      this.readStates.set(id, []);
      this.readsFailed.set(id, []);
    }
  }

  node(id: NodeId): MultiPaxosNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`${id} is down`);
    return n;
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  healAll(): void {
    this.cut.clear();
  }

  /** Runs every replica's Ready cycle and delivers messages until quiet. */
  settle(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of this.ids) busy = this.cycle(id) || busy;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        if (this.cut.has(`${m.from}->${m.to}`)) continue;
        this.nodes.get(m.to)?.step(m);
        busy = true;
      }
      if (!busy) return;
    }
  }

  /** One Ready cycle of one replica with instant persistence; false if it had nothing. */
  cycle(id: NodeId): boolean {
    const n = this.nodes.get(id);
    if (n === undefined || !n.hasReady()) return false;
    const rd = n.ready();
    this.queue.push(...rd.messages);
    const disk = this.disks.get(id) as Disk;
    persist(disk, rd, () => ({ slot: n.slotOut - 1 - rd.decided.length, data: encodeTexts(this.appliedTexts(id)) }));
    this.queue.push(...rd.messagesAfterPersist);
    for (const to of rd.snapshotsTo) {
      const snap = disk.snapshot;
      if (snap === null) throw new Error(`${id} asked to send a snapshot it does not have`);
      this.queue.push({ type: 'Snapshot', from: id, to, slot: snap.slot, data: snap.data });
      this.snapshotsSent++;
    }
    if (rd.installSnapshot !== null) {
      this.snapshotTexts.set(id, decodeTexts(rd.installSnapshot.data));
      this.applied.set(id, []);
      this.installed.get(id)?.push(rd.installSnapshot.slot);
    }
    this.applied.get(id)?.push(...rd.decided);
    this.readStates.get(id)?.push(...rd.readStates);
    this.readsFailed.get(id)?.push(...rd.readsFailed);
    n.advance(rd);
    return true;
  }

  tick(id: NodeId, times = 1): void {
    for (let k = 0; k < times; k++) {
      this.nodes.get(id)?.tick();
      this.settle();
    }
  }

  tickAll(times = 1): void {
    for (let k = 0; k < times; k++) {
      for (const n of this.nodes.values()) n.tick();
      this.settle();
    }
  }

  /** Makes `id` the leader: its timer fires first, then everything settles. */
  elect(id: NodeId): void {
    for (let k = 0; k < 30 && this.node(id).role !== 'leader'; k++) this.tick(id);
    if (this.node(id).role !== 'leader') throw new Error(`${id} did not become leader`);
  }

  crash(id: NodeId): void {
    this.nodes.delete(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  restart(id: NodeId, seed = 7): void {
    this.applied.set(id, []);
    const disk = this.disks.get(id) as Disk;
    this.snapshotTexts.set(id, disk.snapshot === null ? [] : decodeTexts(disk.snapshot.data));
    this.nodes.set(id, node(id, this.ids, seed, disk, this.extra));
    this.settle();
  }

  /** Restart with an empty disk (a wiped data directory). */
  wipe(id: NodeId): void {
    this.disks.set(id, emptyDisk());
    this.restart(id);
  }

  /** Every payload applied: the snapshot's, then the slots applied after it. */
  appliedTexts(id: NodeId): string[] {
    return [...(this.snapshotTexts.get(id) ?? []), ...(this.applied.get(id) ?? []).flatMap((d) => texts(d.command))];
  }
}
