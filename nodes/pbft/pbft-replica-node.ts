import type { Logger } from 'pino';
import { randomInt } from 'node:crypto';
import { InvariantError } from '../../protocols/common/invariant.js';
import { SeededRng } from '../../protocols/common/rng.js';
import type { PbftCrypto } from '../../protocols/pbft/crypto.js';
import { PbftReplica } from '../../protocols/pbft/pbft-replica.js';
import { parseKey } from '../../protocols/pbft/records.js';
import type { Batch, PbftConfig, PbftMessage, PbftReady, PbftReplicaApi, PersistRecord } from '../../protocols/pbft/types.js';
import { DEBUG_LOG_TAIL, type PbftDebugState } from '../debug/debug-state.js';
import { ReadyLoop } from '../ready-loop.js';
import type { PbftPersistOp, PbftStore } from '../storage/leveldb-pbft-store.js';
import type { Transport } from '../transport/index.js';
import { fromWire, packedBatch, toWire } from './batch-wire.js';
import { PbftMessageGuard } from './message-guard.js';
import { pbftDebugState } from './pbft-debug-state.js';
import { faultsTolerated, type PbftTuning } from './pbft-config.js';
import { PbftKvService, type GatewayRequest, type PbftGatewayPort } from './pbft-kv-service.js';
import { PbftNodeStats } from './pbft-node-stats.js';
import type { ReplicaMetrics } from '../metrics.js';
import { CheckpointTimer } from './checkpoint-timer.js';

export interface PbftNodeOptions {
  /** This replica's id; `replicas` in cluster-file order gives the core's indices 0..n-1. */
  id: string;
  replicas: string[];
  httpUrls: Record<string, string>;
  tuning: PbftTuning;
  store: PbftStore;
  transport: Transport;
  crypto: PbftCrypto;
  logger: Logger;
  /** Wrap the correct core (e.g. in protocols/pbft/byzantine.ts's ByzantineReplica, for `--byzantine`). */
  wrap?: (core: PbftReplica) => PbftReplicaApi;
  /** Shown on /status: the misbehaviour this replica was started with. */
  byzantine?: string | null;
  /** The process's metrics registry (nodes/metrics.ts): this replica's and its gateway's counters go there. */
  metrics: ReplicaMetrics;
}

/**
 * One PBFT replica process: the pure core (protocols/pbft) driven by real time, a real disk and
 * real sockets, with the loop every protocol shares (nodes/ready-loop.ts, docs/design.md §3.2):
 * inputs → core → ready() → persist in one synced LevelDB batch → send → hand executed requests,
 * replies and read-only replies to the gateway → advance(). Inputs arriving during an fsync share
 * the next one (group commit); on the primary they also share the next pre-prepare (batching).
 *
 * Peer ids and core indices: replica i is `replicas[i]` (the cluster file's order), so
 * primary(v) = v mod n is the same replica everywhere.
 */
export class PbftReplicaNode implements PbftGatewayPort {
  readonly service: PbftKvService;
  readonly stats = new PbftNodeStats();
  readonly n: number;
  readonly f: number;
  readonly self: number;
  private readonly loop: ReadyLoop;
  private readonly guard: PbftMessageGuard;
  private readonly indexOf = new Map<string, number>();
  /** Times the core calls that take a checkpoint (consensus_snapshot_seconds{phase="encode"}). */
  private readonly checkpointTimer: CheckpointTimer;
  private timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly opts: PbftNodeOptions,
    private readonly core: PbftReplicaApi,
    /** The correct core inside any Byzantine wrapper: its executed state answers stale reads. */
    private readonly correct: PbftReplica,
    private readonly config: PbftConfig,
  ) {
    this.n = config.n;
    this.self = config.self;
    this.f = faultsTolerated(config.n);
    opts.replicas.forEach((id, i) => this.indexOf.set(id, i));
    this.guard = new PbftMessageGuard(this.n);
    this.loop = new ReadyLoop({ protocol: 'pbft', logger: opts.logger, hasReady: () => core.hasReady(), cycle: () => this.cycle() });
    const t = opts.tuning.runtime;
    this.service = new PbftKvService(this, {
      requestTimeoutMs: t.requestTimeoutMs,
      readOnlyTimeoutMs: t.readOnlyTimeoutMs,
      maxPendingRequests: t.maxPendingRequests,
      retransmitMs: t.retransmitMs,
    });
    this.stats.register(opts.metrics, () => core.status(), opts.store, opts.transport);
    this.service.registerMetrics(opts.metrics);
    this.checkpointTimer = new CheckpointTimer(correct, (seconds) => this.stats.checkpointSeconds('encode', seconds));
  }

  get id(): string {
    return this.opts.id;
  }

  static async start(opts: PbftNodeOptions): Promise<PbftReplicaNode> {
    const self = opts.replicas.indexOf(opts.id);
    if (self < 0) throw new Error(`${opts.id} is not in the cluster`);
    const config = coreConfig(opts.tuning, opts.replicas.length, self);
    const records = await opts.store.load();
    // Restart = everything persisted; a wiped replica starts empty and catches up by state transfer (TOCS §6.2).
    const correct = PbftReplica.restore(config, opts.crypto, new SeededRng(randomInt(2 ** 31)), records);
    const core = opts.wrap?.(correct) ?? correct;
    const node = new PbftReplicaNode(opts, core, correct, config);
    const s = core.status();
    opts.logger.info(
      { records: records.length, view: s.view, lastExecuted: s.lastExecuted, lastStableCheckpoint: s.lastStableCheckpoint, byzantine: opts.byzantine ?? null },
      'recovered pbft state from disk',
    );
    opts.transport.onMessage((from, message) => node.receive(from, message));
    node.timers.push(setInterval(() => node.loop.input(() => node.checkpointTimer.time(() => node.core.tick())), opts.tuning.runtime.tickMs));
    node.timers.push(setInterval(() => node.service.sweep(Date.now()), 50));
    node.loop.input(() => undefined); // hand out the first Ready (replies owed after a restart)
    return node;
  }

  // ---- PbftGatewayPort -------------------------------------------------------------------

  submit(request: GatewayRequest, overloaded: () => void): void {
    this.loop.input(() => {
      if (this.core.submit(request) === 'overloaded') overloaded();
    });
  }

  readOnly(request: GatewayRequest): void {
    this.loop.input(() => this.core.readOnly(request));
  }

  readLocal(key: string): string | null {
    return this.correct.get(key);
  }

  primaryId(): string | null {
    return this.opts.replicas[this.core.status().primary] ?? null;
  }

  httpUrlOf(id: string): string | null {
    return this.opts.httpUrls[id] ?? null;
  }

  healthy(): boolean {
    return !this.loop.isClosed;
  }

  status(): Record<string, unknown> {
    const s = this.core.status();
    const primary = this.opts.replicas[s.primary] ?? null;
    return {
      id: this.id,
      protocol: 'pbft',
      pid: process.pid,
      // `role`/`leader` as for every protocol (docs/design.md §4.7): the primary of the view "leads".
      role: s.isPrimary && !s.viewChanging ? 'leader' : 'follower',
      pbftRole: s.isPrimary ? 'primary' : 'backup',
      leader: s.viewChanging ? null : primary,
      primary,
      view: s.view,
      viewChanging: s.viewChanging,
      n: s.n,
      f: s.f,
      index: s.id,
      authentication: this.config.authentication,
      byzantine: this.opts.byzantine ?? null,
      lastStableCheckpoint: s.lastStableCheckpoint,
      lowWatermark: s.lowWatermark,
      highWatermark: s.highWatermark,
      commitIndex: s.lastExecuted,
      appliedIndex: s.lastExecuted,
      lastExecuted: s.lastExecuted,
      lastAssigned: s.lastAssigned,
      inFlight: s.inFlight,
      coreQueuedRequests: s.pendingRequests,
      stateTransfer: s.stateTransfer,
      viewChanges: s.viewChanges,
      consecutiveViewChanges: s.consecutiveViewChanges,
      viewChangeTimeoutTicks: s.viewChangeTimeoutTicks,
      executedRequests: s.executedRequests,
      rejectedAuth: s.rejectedAuth,
      rejectedInvalid: s.rejectedInvalid,
      badPeerMessages: this.stats.badMessages,
    };
  }

  debugState(): PbftDebugState {
    return pbftDebugState(this.id, this.core.status(), this.opts.replicas, this.correct.slotPhases(DEBUG_LOG_TAIL));
  }

  /** Called by the gateway's close() (the KvService main.ts stops). */
  async shutdown(): Promise<void> {
    if (this.loop.isClosed) return;
    const stopped = this.loop.close();
    for (const t of this.timers) clearInterval(t);
    await stopped;
  }

  // ---- the loop --------------------------------------------------------------------------

  private receive(fromId: string, wire: unknown): void {
    const message = fromWire(wire); // a PrePrepare's batch bytes → the batch, before every check
    const from = this.indexOf.get(fromId);
    if (from === undefined || !this.guard.check(message)) {
      this.stats.badMessages++;
      this.opts.logger.warn({ from: fromId, type: typeOfMessage(message) }, 'dropped a malformed peer message');
      return;
    }
    if (!this.mayMatter(message)) {
      this.stats.lateReplies++;
      return;
    }
    this.loop.input(() => this.stepPeer(from, message));
  }

  /**
   * REPLY / read-only replies for requests that already have their quorum only cost verification
   * (OSDI §4.1: the client discards them): drop them before the core authenticates them. A batched
   * Reply is stepped if any of its entries is still awaited (the MAC covers the whole message).
   */
  private mayMatter(message: PbftMessage): boolean {
    if (message.type === 'ReadReply') return this.service.awaitsReply(message.clientId, message.seq);
    if (message.type !== 'Reply') return true;
    for (const e of message.replies) if (this.service.awaitsReply(e.clientId, e.seq)) return true;
    return false;
  }

  /**
   * A peer message the core chokes on is dropped, not fatal: a Byzantine peer must not be able to
   * stop a correct replica (docs/design.md §3.7). A broken invariant still stops it (ready-loop.ts).
   */
  private stepPeer(from: number, message: PbftMessage): void {
    try {
      this.checkpointTimer.time(() => this.core.step(from, message));
    } catch (err) {
      if (err instanceof InvariantError) throw err;
      this.stats.badMessages++;
      this.opts.logger.error({ err, from: this.opts.replicas[from], type: message.type }, 'the core failed on a peer message; dropped it');
    }
  }

  /** One Ready cycle in the contract's order (protocols/pbft/types.ts PbftReady). */
  private async cycle(): Promise<void> {
    const rd = this.checkpointTimer.time(() => this.core.ready());
    // Nothing leaves before what it depends on is durable (TOCS §4.2, §6: a replica must not
    // contradict, after a restart, a PREPARE/COMMIT/CHECKPOINT it sent).
    await this.opts.store.persist(withPackedBatches(rd.persist), rd.executed.length);
    this.sendAll(rd);
    for (const e of rd.executed) this.service.executed(e.request, e.result, e.sequence);
    for (const r of rd.replies) this.service.reply(r.from, r.clientId, r.seq, r.result);
    for (const r of rd.readReplies) this.service.readReply(r.from, r.clientId, r.seq, r.result);
    this.stats.cycles++;
    this.checkpointTimer.time(() => this.core.advance(rd));
  }

  private sendAll(rd: PbftReady): void {
    for (const { to, message } of rd.messages) {
      if (to === this.self) {
        this.loop.input(() => this.stepPeer(to, message));
        continue;
      }
      const peer = this.opts.replicas[to];
      if (peer !== undefined) this.opts.transport.send(peer, toWire(message satisfies PbftMessage));
    }
  }
}

/**
 * Batches (`b/<n>/<d>` records) go to the store as the bytes batch-wire.ts packs once per batch:
 * the primary's PrePrepare frames reuse them, and a backup's are the bytes it received.
 */
function withPackedBatches(persist: readonly PersistRecord[]): PbftPersistOp[] {
  return persist.map((op) => {
    if (!('value' in op) || !Array.isArray(op.value) || parseKey(op.key)?.kind !== 'b') return op;
    return { key: op.key, value: op.value, packed: packedBatch(op.value as Batch) };
  });
}

/** The core gets its section whole, and the one runtime setting it shares: the bound on waiting requests. */
function coreConfig(t: PbftTuning, n: number, self: number): PbftConfig {
  return { ...t.core, n, self, maxPendingRequests: t.runtime.maxPendingRequests };
}

function typeOfMessage(m: unknown): string {
  const type = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type.slice(0, 32) : typeof m;
}
