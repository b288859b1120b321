/**
 * A small deterministic in-memory cluster for the unit tests: FIFO delivery, instant persistence,
 * links that can be cut, replicas that crash and restart from their simulated disk. Every replica
 * is driven exactly through the Ready contract (types.ts).
 */
import { SeededRng } from '../common/rng.js';
import { ZERO_BALLOT } from './ballot.js';
import { MultiPaxosNode } from './paxos-node.js';
import type { Command, Decision, NodeId, PaxosConfig, PaxosMessage, PValue, ReadState, Ready, RestoredState } from './types.js';

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
}

export function emptyDisk(): Disk {
  return { restored: { ballotNum: ZERO_BALLOT, accepted: [], decisions: [] }, accepted: new Map(), decisions: new Map() };
}

export function persist(disk: Disk, rd: Ready): void {
  if (rd.persist.ballotNum !== null) disk.restored.ballotNum = rd.persist.ballotNum;
  for (const pv of rd.persist.accepted) disk.accepted.set(pv.slot, pv);
  for (const d of rd.persist.decisions) disk.decisions.set(d.slot, d.command);
  disk.restored.accepted = [...disk.accepted.values()];
  disk.restored.decisions = [...disk.decisions].map(([slot, command]) => ({ slot, command }));
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function texts(command: Command | undefined): string[] {
  return (command?.payloads ?? []).map((p) => new TextDecoder().decode(p));
}

export function node(id: NodeId, replicas: NodeId[], seed = 1, disk = emptyDisk()): MultiPaxosNode {
  return new MultiPaxosNode({ ...TEST_CONFIG, id, replicas }, new SeededRng(seed), disk.restored);
}

export class TestCluster {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, MultiPaxosNode>();
  readonly disks = new Map<NodeId, Disk>();
  readonly applied = new Map<NodeId, Decision[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly readsFailed = new Map<NodeId, number[]>();
  /** Links that drop everything: "a->b". */
  readonly cut = new Set<string>();
  private queue: PaxosMessage[] = [];

  constructor(size: number, seed = 1) {
    this.ids = Array.from({ length: size }, (_, k) => `n${k + 1}`);
    for (const [k, id] of this.ids.entries()) {
      this.disks.set(id, emptyDisk());
      this.nodes.set(id, node(id, this.ids, seed * 100 + k));
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
    persist(this.disks.get(id) as Disk, rd);
    this.queue.push(...rd.messagesAfterPersist);
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
    this.nodes.set(id, node(id, this.ids, seed, this.disks.get(id)));
    this.settle();
  }

  appliedTexts(id: NodeId): string[] {
    return (this.applied.get(id) ?? []).flatMap((d) => texts(d.command));
  }
}
