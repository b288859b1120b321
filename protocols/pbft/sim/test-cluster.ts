/**
 * A small synchronous in-memory PBFT cluster for unit tests: every Ready is persisted to a
 * per-replica map (the "disk") at once, its messages are queued, and `run()` delivers them in
 * FIFO order until the cluster is quiet. A filter lets a test drop or inspect messages.
 */
import { SeededRng } from '../../common/rng.js';
import { ByzantineReplica, type ByzantineMode } from '../byzantine.js';
import type { PbftCrypto } from '../crypto.js';
import { PbftReplica } from '../pbft-replica.js';
import { SimKeyRing } from './sim-crypto.js';
import type { ClientRequest, ExecutedBatch, ExecutedRequest, OwnCheckpoint, PbftConfig, PbftMessage, PbftReady, PbftReplicaApi, ReceivedReadReply, ReceivedReply } from '../types.js';

export interface Envelope {
  from: number;
  to: number;
  message: PbftMessage;
}

export type Filter = (e: Envelope) => boolean;

export function testConfig(n: number, self: number, overrides: Partial<PbftConfig> = {}): PbftConfig {
  return {
    n,
    self,
    checkpointInterval: 4,
    watermarkWindow: 8,
    maxBatchRequests: 4,
    maxBatchBytes: 4096,
    requestTimeoutTicks: 20,
    authentication: 'mac',
    ...overrides,
  };
}

export class TestCluster {
  readonly ring: SimKeyRing;
  readonly replicas: PbftReplicaApi[];
  readonly cores: PbftReplica[];
  readonly disks: Array<Map<string, unknown>>;
  readonly executed: ExecutedRequest[][];
  readonly replies: ReceivedReply[][];
  readonly readReplies: ReceivedReadReply[][];
  /** Per replica, every Ready's executedBatches and checkpoints, in order. */
  readonly executedBatches: ExecutedBatch[][];
  readonly checkpoints: OwnCheckpoint[][];
  readonly sent: Envelope[] = [];
  readonly down = new Set<number>();
  queue: Envelope[] = [];
  filter: Filter = () => true;

  constructor(
    readonly n: number,
    readonly overrides: Partial<PbftConfig> = {},
    byzantine: ReadonlyMap<number, ByzantineMode> = new Map(),
    seed = 1,
  ) {
    this.ring = new SimKeyRing(seed, n);
    this.cores = [];
    this.replicas = [];
    this.disks = [];
    this.executed = [];
    this.replies = [];
    this.readReplies = [];
    this.executedBatches = [];
    this.checkpoints = [];
    for (let i = 0; i < n; i++) {
      const core = new PbftReplica(testConfig(n, i, overrides), this.ring.cryptoFor(i), new SeededRng(seed + i));
      this.cores.push(core);
      const mode = byzantine.get(i);
      this.replicas.push(mode === undefined ? core : new ByzantineReplica(core, mode, this.ring.cryptoFor(i), new SeededRng(seed * 7 + i)));
      this.disks.push(new Map());
      this.executed.push([]);
      this.replies.push([]);
      this.readReplies.push([]);
      this.executedBatches.push([]);
      this.checkpoints.push([]);
    }
  }

  crypto(i: number): PbftCrypto {
    return this.ring.cryptoFor(i);
  }

  config(i: number): PbftConfig {
    return testConfig(this.n, i, this.overrides);
  }

  request(clientId: string, seq: number, key: string, value: string, origin = 0): ClientRequest {
    return { clientId, seq, operation: { op: 'put', key, value }, origin };
  }

  /** Drains one replica's Ready: persist, then queue its messages, then advance. */
  pump(i: number): void {
    const r = this.replicas[i] as PbftReplicaApi;
    while (!this.down.has(i) && r.hasReady()) {
      const rd: PbftReady = r.ready();
      const disk = this.disks[i] as Map<string, unknown>;
      for (const p of rd.persist) {
        if ('delete' in p) disk.delete(p.key);
        else disk.set(p.key, p.value);
      }
      for (const m of rd.messages) {
        const e = { from: i, to: m.to, message: m.message };
        this.sent.push(e);
        if (this.filter(e)) this.queue.push(e);
      }
      this.executed[i]?.push(...rd.executed);
      this.replies[i]?.push(...rd.replies);
      this.readReplies[i]?.push(...rd.readReplies);
      this.executedBatches[i]?.push(...rd.executedBatches);
      this.checkpoints[i]?.push(...rd.checkpoints);
      r.advance(rd);
    }
  }

  pumpAll(): void {
    for (let i = 0; i < this.n; i++) this.pump(i);
  }

  /** Delivers queued messages until none are left (or `max` deliveries). */
  run(max = 100_000): void {
    this.pumpAll();
    let delivered = 0;
    while (this.queue.length > 0 && delivered < max) {
      const batch = this.queue;
      this.queue = [];
      for (const e of batch) {
        if (this.down.has(e.to)) continue;
        (this.replicas[e.to] as PbftReplicaApi).step(e.from, e.message);
        this.pump(e.to);
        delivered++;
      }
      this.pumpAll();
    }
  }

  tick(times = 1): void {
    for (let k = 0; k < times; k++) {
      for (let i = 0; i < this.n; i++) if (!this.down.has(i)) (this.replicas[i] as PbftReplicaApi).tick();
      this.run();
    }
  }

  /** Crash replica i (its disk survives) and bring it back from its persisted records. */
  restart(i: number): void {
    const records = [...(this.disks[i] as Map<string, unknown>)];
    const core = PbftReplica.restore(this.config(i), this.crypto(i), new SeededRng(99 + i), records);
    this.cores[i] = core;
    this.replicas[i] = core;
    this.down.delete(i);
  }
}
