/**
 * One PBFT replica (Castro and Liskov, OSDI '99 §4; TOCS 2002 §4-§6), a pure deterministic state
 * machine driven from outside (docs/design.md §2.1): step() for peer messages, submit()/readOnly() for
 * client requests, tick() for time; outputs come out of ready() and are released by advance().
 *
 * This class is the façade: it owns the replica's parts (replica/parts.ts), one per section of
 * the papers, each with its own state: client requests (OSDI §4.1, replica/client-requests.ts),
 * the normal case (§4.2, replica/normal-case.ts), read-only requests (§5.1.3,
 * replica/read-only.ts), checkpoints and garbage collection (§4.3, replica/checkpoints.ts), view
 * changes (§4.4, TOCS §4.5, replica/view-changes.ts), state transfer (TOCS §6.2,
 * replica/state-transfers.ts) and retransmission (replica/retransmission.ts). It routes every
 * input to its part, assembles the Ready from the shared outbox and log (replica/context.ts), and
 * restores a replica from its records.
 */
import { invariant } from '../common/invariant.js';
import type { Rng } from '../common/rng.js';
import type { PbftCrypto } from './crypto.js';
import { parseKey, slotFromRecord, type CheckpointRecord, type SlotRecord, type ViewRecord } from './records.js';
import { Checkpoints } from './replica/checkpoints.js';
import { ClientRequests } from './replica/client-requests.js';
import { ReplicaContext } from './replica/context.js';
import { NormalCase } from './replica/normal-case.js';
import type { ReplicaParts } from './replica/parts.js';
import { ReadOnlyRequests } from './replica/read-only.js';
import { Retransmission } from './replica/retransmission.js';
import { StateTransfers } from './replica/state-transfers.js';
import { ViewChanges } from './replica/view-changes.js';
import type {
  Batch,
  ClientRequest,
  NewView,
  PbftConfig,
  PbftMessage,
  PbftReady,
  PbftReplicaApi,
  PbftStatus,
  PersistRecord,
  SlotPhase,
  ViewChange,
} from './types.js';
import { wellFormed } from './well-formed.js';

export class PbftReplica implements PbftReplicaApi {
  readonly n: number;
  readonly f: number;
  readonly self: number;
  readonly nullDigest: string;
  readonly genesisDigest: string;
  private readonly ctx: ReplicaContext;
  private readonly parts: ReplicaParts;
  /** A Ready handed out and not yet advanced. */
  private outstanding = false;

  constructor(
    readonly config: PbftConfig,
    readonly crypto: PbftCrypto,
    readonly rng: Rng,
  ) {
    invariant(config.n >= 1 && config.self >= 0 && config.self < config.n, 'pbft: bad n/self');
    invariant(config.checkpointInterval >= 1, 'pbft: checkpointInterval >= 1');
    invariant(config.watermarkWindow >= config.checkpointInterval && config.watermarkWindow % config.checkpointInterval === 0, 'pbft: L must be a multiple of K');
    const ctx = new ReplicaContext(config, crypto);
    this.ctx = ctx;
    this.n = ctx.n;
    this.f = ctx.f;
    this.self = ctx.self;
    this.nullDigest = ctx.nullDigest;
    this.genesisDigest = ctx.genesisDigest;
    // Each part reaches the others through `parts`; none calls another while being built.
    const parts = {} as ReplicaParts;
    parts.requests = new ClientRequests(ctx, parts);
    parts.normal = new NormalCase(ctx, parts);
    parts.reads = new ReadOnlyRequests(ctx);
    parts.checkpoints = new Checkpoints(ctx, parts);
    parts.views = new ViewChanges(ctx, parts);
    parts.transfers = new StateTransfers(ctx, parts);
    parts.retransmission = new Retransmission(ctx, parts);
    this.parts = parts;
  }

  // ================================================================ inputs

  primaryOf(view: number): number {
    return this.ctx.primaryOf(view);
  }

  get isPrimary(): boolean {
    return this.parts.views.isPrimary;
  }

  /** OSDI §4.1: a request arrives at this replica (gateway or library client). */
  submit(request: ClientRequest): 'accepted' | 'overloaded' {
    return this.parts.requests.submit(request);
  }

  /** OSDI §5.1.3 read-only optimisation: answer from the current state; the origin gathers 2f+1. */
  readOnly(request: ClientRequest): void {
    this.parts.reads.readOnly(request);
  }

  /** One tick of logical time: the view-change timer (OSDI §4.4), then retransmission. */
  tick(): void {
    this.ctx.ticks++;
    if (this.parts.views.timer.tick()) this.parts.views.onTimerExpired();
    this.parts.retransmission.onTick();
  }

  /** A peer message; authenticated against its claimed sender; bad ones are dropped and counted. */
  step(from: number, msg: PbftMessage): void {
    void from; // the transport's sender is advisory: authentication decides (OSDI §4)
    if (!wellFormed(msg) || msg.replica === this.self || msg.replica >= this.n) {
      this.ctx.stats.rejectedInvalid++;
      return;
    }
    if (!this.ctx.auth.verify(msg)) {
      this.ctx.stats.rejectedAuth++;
      return;
    }
    this.dispatch(msg);
  }

  private dispatch(msg: PbftMessage): void {
    const { requests, normal, reads, checkpoints, views, transfers, retransmission } = this.parts;
    switch (msg.type) {
      case 'Request':
        return requests.onRequest(msg);
      case 'PrePrepare':
        return normal.onPrePrepare(msg);
      case 'Prepare':
        return normal.onPrepare(msg);
      case 'Commit':
        return normal.onCommit(msg);
      case 'Reply':
        return requests.onReply(msg);
      case 'ReadRequest':
        return reads.onReadRequest(msg);
      case 'ReadReply':
        return reads.onReadReply(msg);
      case 'Checkpoint':
        return checkpoints.onCheckpoint(msg);
      case 'ViewChange':
        return views.onViewChange(msg);
      case 'NewView':
        return views.onNewView(msg);
      case 'Fetch':
        return retransmission.onFetch(msg);
      case 'FetchReply':
        return transfers.onFetchReply(msg);
      case 'FetchMeta':
        return transfers.onFetchMeta(msg);
      case 'Meta':
        return transfers.onMeta(msg);
      case 'FetchPartitions':
        return transfers.onFetchPartitions(msg);
      case 'PartitionChunk':
        return transfers.onPartitionChunk(msg);
      case 'FetchBatches':
        return views.onFetchBatches(msg);
      case 'Batches':
        return views.onBatches(msg);
      default: {
        const unknown: never = msg;
        return unknown;
      }
    }
  }

  // ================================================================ the Ready

  hasReady(): boolean {
    if (this.outstanding) return false;
    return this.ctx.out.hasOutput() || this.ctx.log.hasChanges || this.parts.views.hasChanges || this.parts.normal.canPropose();
  }

  ready(): PbftReady {
    invariant(!this.outstanding, 'pbft: ready() called twice without advance()');
    this.parts.normal.proposeBatches();
    const rd: PbftReady = { persist: this.collectPersist(), ...this.ctx.out.takeOutputs() };
    this.parts.normal.commitsHandedOut();
    this.outstanding = true;
    return rd;
  }

  /** The Ready is durable (and sent): our own Commits in it now count (NormalCase.commitsDurable). */
  advance(ready: PbftReady): void {
    void ready;
    this.outstanding = false;
    this.parts.normal.commitsDurable();
  }

  /** ONE durable batch: what the parts buffered, then the view record, then the changed slots. */
  private collectPersist(): PersistRecord[] {
    const out = this.ctx.out.takePersist();
    this.parts.views.collectPersist(out);
    this.ctx.log.collectPersist(out);
    return out;
  }

  // ================================================================ read-only accessors

  status(): PbftStatus {
    const { requests, normal, checkpoints, views, transfers } = this.parts;
    const stats = this.ctx.stats;
    return {
      id: this.self,
      n: this.n,
      f: this.f,
      view: views.view,
      primary: views.primary,
      isPrimary: views.isPrimary,
      viewChanging: views.changing,
      lowWatermark: checkpoints.lastStable,
      highWatermark: checkpoints.highWatermark,
      lastStableCheckpoint: checkpoints.lastStable,
      lastExecuted: normal.lastExecuted,
      lastAssigned: normal.lastAssigned,
      pendingRequests: requests.size,
      inFlight: normal.inFlightCount,
      consecutiveViewChanges: views.timer.consecutive,
      viewChangeTimeoutTicks: views.timer.timeoutTicks,
      stateTransfer: transfers.active,
      rejectedAuth: stats.rejectedAuth,
      rejectedInvalid: stats.rejectedInvalid,
      executedRequests: stats.executedRequests,
      viewChanges: stats.viewChanges,
      stateTransfers: stats.stateTransfers,
    };
  }

  /** Digest of the batch executed at n (for checkers and tests), or null. */
  executedAt(n: number): string | null {
    return this.ctx.log.get(n)?.executed ?? null;
  }

  /** The state digest of this replica's own checkpoint at n, if it still has it. */
  checkpointDigest(n: number): string | null {
    return this.parts.checkpoints.digestAt(n);
  }

  /** How many checkpoints this replica computed by executing (OSDI §4.3); not those state transfer installed. */
  checkpointsTaken(): number {
    return this.parts.checkpoints.taken;
  }

  /** The newest `limit` sequence numbers with the phase each reached here (MessageLog.phases). */
  slotPhases(limit = 20): SlotPhase[] {
    return this.ctx.log.phases(limit, this.f, (view) => this.ctx.primaryOf(view));
  }

  /** Local read of the executed state (tests, `?consistency=stale`). */
  get(key: string): string | null {
    return this.ctx.state.get(key);
  }

  /** What the last state transfer fetched (tests): tree nodes and leaf partitions. */
  lastStateTransfer(): { sequence: number; metaNodes: number; partitions: number } | null {
    return this.parts.transfers.lastTransfer();
  }

  // ================================================================ restore (TOCS §4.6)

  /** Rebuilds a replica from everything it persisted: it never contradicts what it sent before. */
  static restore(config: PbftConfig, crypto: PbftCrypto, rng: Rng, records: Array<[string, unknown]>): PbftReplica {
    const r = new PbftReplica(config, crypto, rng);
    r.load(records);
    return r;
  }

  /** The records (records.ts) to their parts; then the batches executed after h are re-executed. */
  private load(records: Array<[string, unknown]>): void {
    const { normal, checkpoints, views, retransmission } = this.parts;
    const slotRecords = new Map<number, SlotRecord>();
    const batches = new Map<number, Map<string, Batch>>();
    let cp: CheckpointRecord | null = null;
    for (const [key, value] of records) {
      if (key === 'view') views.loadView(value as ViewRecord);
      else if (key === 'cp') cp = value as CheckpointRecord;
      else if (key === 'vc') views.loadViewChange(value as ViewChange);
      else if (key === 'nv') views.loadNewView(value as NewView);
      else {
        const parsed = parseKey(key);
        if (parsed?.kind === 's') slotRecords.set(parsed.n, value as SlotRecord);
        else if (parsed?.kind === 'b') {
          const m = batches.get(parsed.n) ?? new Map<string, Batch>();
          m.set(parsed.digest, value as Batch);
          batches.set(parsed.n, m);
        }
      }
    }
    if (cp !== null) checkpoints.load(cp, records);
    for (const [n, rec] of slotRecords) {
      if (n <= checkpoints.lastStable) continue;
      this.ctx.log.restore(slotFromRecord(n, rec, batches.get(n) ?? new Map(), this.self));
      retransmission.saw(n);
      if (rec.digest !== null && rec.view === views.view && this.primaryOf(rec.view) === this.self) normal.restoreAssigned(n);
    }
    normal.restoreAssigned(checkpoints.lastStable);
    normal.replayExecuted();
    views.loaded();
  }
}
