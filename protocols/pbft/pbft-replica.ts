/**
 * One PBFT replica (Castro and Liskov, OSDI '99 §4; TOCS 2002 §4-§6), a pure deterministic state
 * machine driven from outside (docs/design.md §2.1): step() for peer messages, submit()/readOnly() for
 * client requests, tick() for time; outputs come out of ready() and are released by advance().
 *
 * Sections follow the paper: client requests (§4.1), normal case (§4.2: pre-prepare, prepare,
 * commit, execution), checkpoints and garbage collection (§4.3), view changes (§4.4, TOCS §4.5),
 * state transfer (TOCS §6.2), read-only requests (§5.1.3), retransmission, persistence.
 */
import { invariant } from '../common/invariant.js';
import type { Rng } from '../common/rng.js';
import type { KvResult } from '../kv/commands.js';
import { Authenticator, NO_AUTH } from './auth.js';
import { batchDigest, batchWireBytesMax, decodeValue, requestSize, resultWireBytesMax } from './canonical.js';
import { CheckpointCollector } from './checkpoint-collector.js';
import { DEFAULT_MAX_CARRIED_BATCH_BYTES, DEFAULT_MAX_TRANSFER_BYTES } from './message-bounds.js';
import type { PbftCrypto } from './crypto.js';
import {
  batchKey,
  parseKey,
  slotFromRecord,
  slotKey,
  slotRecord,
  type CheckpointRecord,
  type SlotRecord,
  type ViewRecord,
} from './records.js';
import { Slot } from './slot.js';
import { ServiceState } from './service-state.js';
import { BatchVotes, StateTransfer } from './state-transfer.js';
import { metaReply, partitionChunks, type StableCheckpoint } from './state-transfer-server.js';
import { checkpointDigest } from './partition-tree.js';
import type {
  Batch,
  BatchEntry,
  Batches,
  FetchBatches,
  Checkpoint,
  ClientRequest,
  Commit,
  Fetch,
  FetchReply,
  FetchMeta,
  FetchPartitions,
  Meta,
  PartitionChunk,
  NewView,
  PbftConfig,
  PbftMessage,
  PbftReady,
  PbftReplicaApi,
  PbftStatus,
  PersistRecord,
  PrePrepare,
  Prepare,
  ReadReply,
  ReadRequest,
  ReceivedReadReply,
  ReceivedReply,
  ExecutedRequest,
  Reply,
  ReplyEntry,
  SlotPhase,
  RequestMessage,
  ViewChange,
} from './types.js';
import { decideNewView, validCheckpointProof, validViewChange, verifyNewView, type NewViewDecision, type ViewChangeRules } from './view-change.js';
import { ViewTimer } from './view-timer.js';
import { wellFormed } from './well-formed.js';
import { byzantineF } from '../common/quorum.js';

const requestKey = (r: { clientId: string; seq: number }): string => `${r.clientId}\u0000${r.seq}`;
const RESEND_CAP = 64;
const FETCH_ENTRIES_MAX = 64;
/** The view-change timeout doubles per consecutive view change up to T * 2^5 (README Deviations). */
const MAX_BACKOFF_DOUBLINGS = 5;
/** An idle replica probes for missed progress once every this many retransmission intervals. */
const PROBE_EVERY_RETRANSMITS = 8;

interface Waiting {
  request: ClientRequest;
  since: number;
  multicast: boolean;
}

/** Test and simulation hook: what this replica executed and checkpointed (checkers only). */
export interface PbftObserver {
  executed(replica: number, n: number, digest: string, batch: Batch): void;
  checkpoint(replica: number, n: number, digest: string): void;
}

interface OwnCheckpoint {
  digest: string;
  message: Checkpoint;
}

export class PbftReplica implements PbftReplicaApi {
  readonly n: number;
  readonly f: number;
  readonly self: number;
  private readonly K: number;
  private readonly L: number;
  private readonly maxPending: number;
  private readonly retransmitTicks: number;
  private readonly maxTransferBytes: number;
  private readonly maxCarriedBytes: number;
  private readonly maxBatchesInFlight: number;
  private readonly auth: Authenticator;
  private readonly rules: ViewChangeRules;
  private readonly others: number[];
  readonly nullDigest: string;
  readonly genesisDigest: string;

  /**
   * The service state with its sessions and partition digests (service-state.ts): the replica
   * asks the sessions whether a request was executed before ordering it again (OSDI §4.1, "the
   * replica re-sends the reply").
   */
  private readonly state: ServiceState;
  private oldestWaiting: string | null = null;
  private view = 0;
  private viewChanging = false;
  private readonly slots = new Map<number, Slot>();
  private lastStable = 0;
  private stableDigest: string;
  private stableProof: Checkpoint[] = [];
  private lastExecuted = 0;
  private lastAssigned = 0;
  private highestSeen = 0;
  private readonly ownCheckpoints = new Map<number, OwnCheckpoint>();
  private readonly checkpoints: CheckpointCollector;
  /** Each replica's latest valid ViewChange (bounded: one per replica). */
  private readonly viewChanges = new Map<number, ViewChange>();
  private myViewChange: ViewChange | null = null;
  private lastNewView: NewView | null = null;
  private readonly timer: ViewTimer;
  private ticks = 0;
  private sinceRetransmit = 0;
  private executedAtLastRetransmit = 0;
  private idleRetransmits = 0;
  private readonly waiting = new Map<string, Waiting>();
  private queue: ClientRequest[] = [];
  private readonly queued = new Set<string>();
  private readonly inFlight = new Set<string>();
  private stateTransfer: StateTransfer | null = null;
  private lastTransfer: { sequence: number; metaNodes: number; partitions: number } | null = null;
  private readonly batchVotes: BatchVotes;
  private readonly newViewSentAt = new Map<number, number>();
  /**
   * View change: batches fetched with FetchBatches because a ViewChange or NewView did not carry
   * them (bounded: only asked-for digests are kept), and a verified NewView waiting for them, with
   * the digests it needs. They serve one view change: each new one starts with none
   * (forgetViewChangeBatches), so what earlier attempts fetched cannot use up the bound.
   */
  private readonly heldBatches = new Map<string, Batch>();
  private heldBytes = 0;
  private readonly wantedBatches = new Set<string>();
  private pendingNewView: NewView | null = null;
  private readonly pendingNeeds = new Set<string>();

  // Ready buffers.
  private persistOut: PersistRecord[] = [];
  private messagesOut: Array<{ to: number; message: PbftMessage }> = [];
  private executedOut: ExecutedRequest[] = [];
  private repliesOut: ReceivedReply[] = [];
  private readRepliesOut: ReceivedReadReply[] = [];
  private readonly dirtySlots = new Set<number>();
  /**
   * Our own Commits not yet durable: made since the last ready() (`unsent`), and in the Ready
   * being persisted (`inReady`). A replica's own Commit counts toward committed-local only once
   * it is durable, i.e. once it could have reached the others (see ownCommitDurable).
   */
  private ownCommitsUnsent: Array<{ n: number; view: number }> = [];
  private ownCommitsInReady: Array<{ n: number; view: number }> = [];
  private viewDirty = false;
  private outstanding = false;
  /** Set by checkers (simulation, tests); never by the runtime. */
  observer: PbftObserver | null = null;

  private readonly stats = { rejectedAuth: 0, rejectedInvalid: 0, executedRequests: 0, viewChanges: 0, stateTransfers: 0 };

  constructor(
    readonly config: PbftConfig,
    readonly crypto: PbftCrypto,
    readonly rng: Rng,
  ) {
    invariant(config.n >= 1 && config.self >= 0 && config.self < config.n, 'pbft: bad n/self');
    invariant(config.checkpointInterval >= 1, 'pbft: checkpointInterval >= 1');
    invariant(config.watermarkWindow >= config.checkpointInterval && config.watermarkWindow % config.checkpointInterval === 0, 'pbft: L must be a multiple of K');
    this.n = config.n;
    this.f = byzantineF(config.n);
    this.self = config.self;
    this.K = config.checkpointInterval;
    this.L = config.watermarkWindow;
    this.maxPending = config.maxPendingRequests ?? 10_000;
    this.retransmitTicks = config.retransmitTicks ?? Math.max(1, Math.floor(config.requestTimeoutTicks / 4));
    this.maxTransferBytes = config.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
    this.maxCarriedBytes = config.maxCarriedBatchBytes ?? DEFAULT_MAX_CARRIED_BATCH_BYTES;
    this.maxBatchesInFlight = config.maxBatchesInFlight ?? 2;
    this.auth = new Authenticator(crypto, config.authentication);
    this.others = Array.from({ length: this.n }, (_, k) => k).filter((k) => k !== this.self);
    this.nullDigest = batchDigest([], (bytes) => crypto.digest(bytes));
    this.state = new ServiceState((bytes) => crypto.digest(bytes));
    this.genesisDigest = this.state.checkpoints.digestAt(0) as string;
    this.stableDigest = this.genesisDigest;
    this.rules = {
      n: this.n,
      f: this.f,
      checkpointInterval: this.K,
      watermarkWindow: this.L,
      genesisDigest: this.genesisDigest,
      auth: this.auth,
    };
    this.checkpoints = new CheckpointCollector(2 * this.f + 1);
    this.batchVotes = new BatchVotes(this.f + 1);
    this.timer = new ViewTimer(config.requestTimeoutTicks, MAX_BACKOFF_DOUBLINGS);
  }

  // ================================================================ public surface

  primaryOf(view: number): number {
    return view % this.n;
  }

  get isPrimary(): boolean {
    return this.primaryOf(this.view) === this.self;
  }

  /** OSDI §4.1: a request arrives at this replica (gateway or library client). */
  submit(request: ClientRequest): 'accepted' | 'overloaded' {
    const cached = this.cachedResult(request);
    if (cached !== null) {
      // Already executed: our own reply again, and the others are asked to resend theirs.
      this.executedOut.push({ request, result: cached, sequence: this.lastExecuted });
      if (request.origin === this.self) this.sendTo(this.others, { type: 'Request', request, replica: this.self, auth: NO_AUTH });
      return 'accepted';
    }
    const key = requestKey(request);
    if (!this.waiting.has(key)) {
      if (this.waiting.size >= this.maxPending) return 'overloaded';
      this.waiting.set(key, { request, since: this.ticks, multicast: false });
    }
    this.startRequestTimer();
    if (this.isPrimary && !this.viewChanging) this.enqueue(request);
    else if (!this.viewChanging) this.sendTo([this.primaryOf(this.view)], { type: 'Request', request, replica: this.self, auth: NO_AUTH });
    return 'accepted';
  }

  /** OSDI §5.1.3 read-only optimisation: answer from the current state; the origin gathers 2f+1. */
  readOnly(request: ClientRequest): void {
    const result = this.readResult(request);
    if (result === null) return;
    if (request.origin === this.self || request.origin < 0) {
      this.readRepliesOut.push({ from: this.self, clientId: request.clientId, seq: request.seq, result });
    }
    if (request.origin === this.self) {
      this.sendTo(this.others, { type: 'ReadRequest', request, replica: this.self, auth: NO_AUTH });
    } else if (request.origin >= 0 && request.origin < this.n) {
      this.sendTo([request.origin], { type: 'ReadReply', clientId: request.clientId, seq: request.seq, result, replica: this.self, auth: NO_AUTH });
    }
  }

  tick(): void {
    this.ticks++;
    if (this.timer.tick()) this.onTimerExpired();
    if (++this.sinceRetransmit >= this.retransmitTicks) {
      this.sinceRetransmit = 0;
      this.retransmit();
    }
  }

  /** A peer message; authenticated against its claimed sender; bad ones are dropped and counted. */
  step(from: number, msg: PbftMessage): void {
    void from; // the transport's sender is advisory: authentication decides (OSDI §4)
    if (!wellFormed(msg) || msg.replica === this.self || msg.replica >= this.n) {
      this.stats.rejectedInvalid++;
      return;
    }
    if (!this.auth.verify(msg)) {
      this.stats.rejectedAuth++;
      return;
    }
    this.dispatch(msg);
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    return (
      this.messagesOut.length > 0 ||
      this.persistOut.length > 0 ||
      this.executedOut.length > 0 ||
      this.repliesOut.length > 0 ||
      this.readRepliesOut.length > 0 ||
      this.dirtySlots.size > 0 ||
      this.viewDirty ||
      this.canPropose()
    );
  }

  ready(): PbftReady {
    invariant(!this.outstanding, 'pbft: ready() called twice without advance()');
    this.proposeBatches();
    const rd: PbftReady = {
      persist: this.collectPersist(),
      messages: this.messagesOut,
      executed: this.executedOut,
      replies: this.repliesOut,
      readReplies: this.readRepliesOut,
    };
    this.messagesOut = [];
    this.executedOut = [];
    this.repliesOut = [];
    this.readRepliesOut = [];
    this.ownCommitsInReady = this.ownCommitsUnsent;
    this.ownCommitsUnsent = [];
    this.outstanding = true;
    return rd;
  }

  /** The Ready is durable (and sent): our own Commits in it now count (ownCommitDurable). */
  advance(ready: PbftReady): void {
    void ready;
    this.outstanding = false;
    const durable = this.ownCommitsInReady;
    this.ownCommitsInReady = [];
    for (const { n, view } of durable) this.ownCommitDurable(n, view);
  }

  status(): PbftStatus {
    return {
      id: this.self,
      n: this.n,
      f: this.f,
      view: this.view,
      primary: this.primaryOf(this.view),
      isPrimary: this.isPrimary,
      viewChanging: this.viewChanging,
      lowWatermark: this.lastStable,
      highWatermark: this.lastStable + this.L,
      lastStableCheckpoint: this.lastStable,
      lastExecuted: this.lastExecuted,
      lastAssigned: this.lastAssigned,
      pendingRequests: this.waiting.size,
      inFlight: this.inFlight.size,
      consecutiveViewChanges: this.timer.consecutive,
      viewChangeTimeoutTicks: this.timer.timeoutTicks,
      stateTransfer: this.stateTransfer !== null,
      rejectedAuth: this.stats.rejectedAuth,
      rejectedInvalid: this.stats.rejectedInvalid,
      executedRequests: this.stats.executedRequests,
      viewChanges: this.stats.viewChanges,
      stateTransfers: this.stats.stateTransfers,
    };
  }

  /** Digest of the batch executed at n (for checkers and tests), or null. */
  executedAt(n: number): string | null {
    return this.slots.get(n)?.executed ?? null;
  }

  /** The state digest of this replica's own checkpoint at n, if it still has it. */
  checkpointDigest(n: number): string | null {
    if (n === this.lastStable) return this.stableDigest;
    return this.ownCheckpoints.get(n)?.digest ?? null;
  }

  /**
   * The newest `limit` sequence numbers of the log (at most L of them, h < n <= H) with the phase
   * each reached here (OSDI §4.2: pre-prepared, prepared, committed-local) and whether it was
   * executed, oldest first: what the dashboard draws. Slots with votes but no pre-prepare yet
   * are left out.
   */
  slotPhases(limit = 20): SlotPhase[] {
    const ns: number[] = [];
    for (const [n, s] of this.slots) if (s.digest !== null || s.executed !== null) ns.push(n);
    ns.sort((a, b) => a - b);
    const out: SlotPhase[] = [];
    for (const n of ns.slice(Math.max(0, ns.length - limit))) {
      const s = this.slots.get(n) as Slot;
      const primary = this.primaryOf(s.view);
      const executed = s.executed !== null;
      const phase = executed || s.committedLocal(this.f, primary) ? 'committed' : s.sentCommit || s.prepared(this.f, primary) ? 'prepared' : 'pre-prepared';
      out.push({ sequence: n, view: Math.max(0, s.view), phase, executed, digest: s.executed ?? (s.digest as string) });
    }
    return out;
  }

  /** Local read of the executed state (tests, `?consistency=stale`). */
  get(key: string): string | null {
    return this.state.get(key);
  }

  // ================================================================ dispatch

  private dispatch(msg: PbftMessage): void {
    switch (msg.type) {
      case 'Request':
        return this.onRequest(msg);
      case 'PrePrepare':
        return this.onPrePrepare(msg);
      case 'Prepare':
        return this.onPrepare(msg);
      case 'Commit':
        return this.onCommit(msg);
      case 'Reply':
        return this.onReply(msg);
      case 'ReadRequest':
        return this.onReadRequest(msg);
      case 'ReadReply':
        return this.onReadReply(msg);
      case 'Checkpoint':
        return this.onCheckpoint(msg);
      case 'ViewChange':
        return this.onViewChange(msg);
      case 'NewView':
        return this.onNewView(msg);
      case 'Fetch':
        return this.onFetch(msg);
      case 'FetchReply':
        return this.onFetchReply(msg);
      case 'FetchMeta':
        return this.onFetchMeta(msg);
      case 'Meta':
        return this.onMeta(msg);
      case 'FetchPartitions':
        return this.onFetchPartitions(msg);
      case 'PartitionChunk':
        return this.onPartitionChunk(msg);
      case 'FetchBatches':
        return this.onFetchBatches(msg);
      case 'Batches':
        return this.onBatches(msg);
      default: {
        const unknown: never = msg;
        return unknown;
      }
    }
  }

  private invalid(): void {
    this.stats.rejectedInvalid++;
  }

  // ================================================================ §4.1 client requests

  /** A relayed request: remember it, start the timer, and pass it to the primary (OSDI §4.4). */
  private onRequest(m: RequestMessage): void {
    const key = requestKey(m.request);
    const cached = this.cachedResult(m.request);
    if (cached !== null) {
      // OSDI §4.1: a retransmitted request that was executed gets the reply again.
      const origin = m.request.origin;
      if (origin === m.replica) this.sendTo([origin], { type: 'Reply', view: this.view, replies: [{ clientId: m.request.clientId, seq: m.request.seq, result: cached }], replica: this.self, auth: NO_AUTH });
      return;
    }
    if (this.waiting.has(key)) return; // relayed before; our own retransmission takes care of it
    if (this.waiting.size >= this.maxPending) return;
    this.waiting.set(key, { request: m.request, since: this.ticks, multicast: true });
    this.startRequestTimer();
    if (this.viewChanging) return;
    if (this.isPrimary) this.enqueue(m.request);
    else if (m.replica !== this.primaryOf(this.view)) this.sendTo([this.primaryOf(this.view)], { ...m, replica: this.self });
  }

  /** The result of an executed request (session duplicate), or null if it is new. */
  private cachedResult(request: ClientRequest): KvResult | null {
    const seen = this.state.lookup({ clientId: request.clientId, seq: request.seq });
    if (seen.kind === 'duplicate') return seen.result;
    if (seen.kind === 'expired') return { kind: 'session-expired' };
    return null;
  }

  private enqueue(request: ClientRequest): void {
    const key = requestKey(request);
    if (this.queued.has(key) || this.inFlight.has(key) || this.cachedResult(request) !== null) return;
    if (this.queue.length >= this.maxPending) return;
    this.queued.add(key);
    this.queue.push(request);
  }

  /** A (batched) Reply: each entry is one replica's vote for one request (OSDI §4.1). */
  private onReply(m: Reply): void {
    for (const e of m.replies) this.repliesOut.push({ from: m.replica, clientId: e.clientId, seq: e.seq, result: e.result, view: m.view });
  }

  // ================================================================ §4.2 normal case

  private inWindow(n: number): boolean {
    // OSDI §4.2: "the sequence number n is between a low water mark, h, and a high water mark, H".
    return n > this.lastStable && n <= this.lastStable + this.L;
  }

  private slot(n: number): Slot {
    let s = this.slots.get(n);
    if (s === undefined) {
      s = new Slot(n);
      this.slots.set(n, s);
    }
    return s;
  }

  /**
   * OSDI §4.2: n within the watermarks; TOCS §5.1.4: batches wait while `maxBatchesInFlight` are
   * in progress (unless a full one is ready), so a loaded primary sends fewer, larger batches.
   */
  private canPropose(): boolean {
    if (this.queue.length === 0 || !this.isPrimary || this.viewChanging || this.lastAssigned >= this.lastStable + this.L) return false;
    return this.lastAssigned - this.lastExecuted < this.maxBatchesInFlight || this.queue.length >= this.config.maxBatchRequests;
  }

  /** The primary batches pending requests into PrePrepares, many n in flight within H (TOCS §5.1.4). */
  private proposeBatches(): void {
    while (this.canPropose()) {
      const batch = this.cutBatch();
      const n = ++this.lastAssigned;
      const digest = this.digestOf(batch);
      for (const r of batch) this.inFlight.add(requestKey(r));
      this.highestSeen = Math.max(this.highestSeen, n);
      const s = this.slot(n);
      s.acceptPrePrepare(this.view, digest, batch);
      s.touched = this.ticks;
      this.dirtySlots.add(n);
      this.sendTo(this.others, { type: 'PrePrepare', view: this.view, sequence: n, digest, batch, replica: this.self, auth: NO_AUTH });
      this.advanceSlot(s);
    }
  }

  private cutBatch(): Batch {
    let bytes = 0;
    let count = 0;
    for (const r of this.queue) {
      const size = requestSize(r);
      if (count > 0 && (count >= this.config.maxBatchRequests || bytes + size > this.config.maxBatchBytes)) break;
      bytes += size;
      count++;
    }
    // One splice per batch: the queue holds at most maxPendingRequests requests.
    const batch = this.queue.splice(0, count);
    for (const r of batch) this.queued.delete(requestKey(r));
    return batch;
  }

  /**
   * OSDI §4.2: a backup accepts a pre-prepare if it is in view v, the signature/MAC is right, the
   * digest matches the batch, it has not accepted a pre-prepare for (v, n) with a different
   * digest, and h < n <= H. It then multicasts a Prepare.
   */
  private onPrePrepare(m: PrePrepare): void {
    this.sawSequence(m.sequence);
    if (this.viewChanging || m.view !== this.view || m.replica !== this.primaryOf(m.view)) return this.invalid();
    if (!this.inWindow(m.sequence)) return this.invalid();
    if (this.digestOf(m.batch) !== m.digest) return this.invalid();
    const s = this.slot(m.sequence);
    if (s.view === m.view && s.digest !== null) {
      if (s.digest !== m.digest) return this.invalid(); // never two digests for one (v, n)
      if (s.sentPrepare) this.sendTo([m.replica], this.ownPrepare(s)); // a retransmission
      return;
    }
    this.highestSeen = Math.max(this.highestSeen, m.sequence);
    s.acceptPrePrepare(m.view, m.digest, m.batch);
    s.touched = this.ticks;
    this.sendPrepare(s);
    this.advanceSlot(s);
  }

  /**
   * An authenticated pre-prepare, prepare or commit for n, in any view: evidence that the others
   * are at n. A replica still in an older view (or view-changing, or with its window stuck below
   * n) drops the message, but learns it is behind and fetches the committed batches it misses
   * (fetchIfStuck, TOCS §6.2) instead of waiting for the next stable checkpoint. Bounded, so a
   * faulty replica can make us send at most one Fetch per retransmission interval.
   */
  private sawSequence(n: number): void {
    if (n > this.highestSeen && n <= this.lastStable + 2 * this.L) this.highestSeen = n;
  }

  private ownPrepare(s: Slot): Prepare {
    return { type: 'Prepare', view: s.view, sequence: s.sequence, digest: s.digest as string, replica: this.self, auth: NO_AUTH };
  }

  private ownCommit(s: Slot): Commit {
    return { type: 'Commit', view: s.view, sequence: s.sequence, digest: s.digest as string, replica: this.self, auth: NO_AUTH };
  }

  private sendPrepare(s: Slot): void {
    s.sentPrepare = true;
    s.prepares.set(this.self, s.digest as string);
    this.dirtySlots.add(s.sequence);
    this.sendTo(this.others, this.ownPrepare(s));
  }

  /** OSDI §4.2: accept a Prepare from a backup in view v within the watermarks. */
  private onPrepare(m: Prepare): void {
    this.sawSequence(m.sequence);
    if (this.viewChanging || m.view !== this.view) return this.helpOtherView(m);
    if (m.replica === this.primaryOf(m.view) || !this.inWindow(m.sequence)) return this.invalid();
    this.highestSeen = Math.max(this.highestSeen, m.sequence);
    const s = this.slot(m.sequence);
    s.enterView(m.view);
    if (s.prepares.has(m.replica)) return this.helpLagging(s, m.replica);
    s.prepares.set(m.replica, m.digest);
    this.advanceSlot(s);
  }

  /** OSDI §4.2: accept a Commit in view v within the watermarks. */
  private onCommit(m: Commit): void {
    this.sawSequence(m.sequence);
    if (this.viewChanging || m.view !== this.view) return this.helpOtherView(m);
    if (!this.inWindow(m.sequence)) return this.invalid();
    this.highestSeen = Math.max(this.highestSeen, m.sequence);
    const s = this.slot(m.sequence);
    s.enterView(m.view);
    if (s.commits.has(m.replica)) return this.helpLagging(s, m.replica);
    s.commits.set(m.replica, m.digest);
    this.advanceSlot(s);
  }

  /**
   * A replica resent its Prepare or Commit: it resends only while it is not committed-local
   * (resendSlots), so it may be missing votes we sent before, even if its own Commit reached us
   * (and we may have executed n long ago, so our retransmission skips the slot). Send ours again
   * to it, whichever we sent, at most once per retransmission interval, so two replicas cannot
   * keep answering each other. Our Prepare alone matters too: in a new view a replica that
   * executed n in an earlier one prepares n again, and its lost Prepare may be the one the
   * others lack (seed 3001389: two of the five correct replicas of seven had executed n, and
   * without their Prepares nobody else could prepare it in the new view).
   */
  private helpLagging(s: Slot, to: number): void {
    if (s.digest === null || (!s.sentPrepare && !s.sentCommit)) return;
    const last = s.helpedAt.get(to) ?? -Infinity;
    if (this.ticks - last < this.retransmitTicks) return;
    s.helpedAt.set(to, this.ticks);
    if (s.sentPrepare) this.sendTo([to], this.ownPrepare(s));
    if (s.sentCommit) this.sendTo([to], this.ownCommit(s));
  }

  /**
   * A vote for a view we are not collecting in (we moved on, or are changing views): we drop it
   * (OSDI §4.4), but if we voted in that view at n we send our votes again. The sender resends
   * while it lacks votes, and ours may be the one lost: a replica that committed n, then started a
   * view change, stopped retransmitting, and the others, quiet and still in the old view, could
   * never complete n (seed 1531473542).
   */
  private helpOtherView(m: Prepare | Commit): void {
    const s = this.slots.get(m.sequence);
    if (s !== undefined && s.view === m.view && s.digest === m.digest && this.inWindow(m.sequence)) this.helpLagging(s, m.replica);
  }

  /** prepared -> multicast Commit (OSDI §4.2); committed-local -> execute in order. */
  private advanceSlot(s: Slot): void {
    const primary = this.primaryOf(s.view);
    if (!s.sentCommit && s.prepared(this.f, primary)) {
      s.markPrepared(s.view, s.digest as string);
      s.sentCommit = true;
      this.ownCommitsUnsent.push({ n: s.sequence, view: s.view });
      this.dirtySlots.add(s.sequence);
      this.sendTo(this.others, this.ownCommit(s));
    }
    if (s.sequence === this.lastExecuted + 1) this.executeReady();
  }

  /**
   * committed-local (OSDI §4.2) counts 2f+1 Commits "possibly including its own". Ours counts
   * once it is durable, as everyone else's does (a Commit reaches us only after its sender
   * persisted it). Counted earlier, a replica could execute on the strength of a Commit it then
   * loses in a crash, together with the prepared certificate behind it: its ViewChange would
   * report nothing prepared at n, a new view could assign n another batch, and the same replica
   * would have executed two batches at n (seed 3001169; README, Durability).
   */
  private ownCommitDurable(n: number, view: number): void {
    const s = this.slots.get(n);
    if (s === undefined || s.view !== view || !s.sentCommit || s.digest === null) return;
    s.commits.set(this.self, s.digest);
    this.advanceSlot(s);
  }

  /** OSDI §4.2: execute the batch at n once committed-local and every n' < n has executed. */
  private executeReady(): void {
    for (;;) {
      const n = this.lastExecuted + 1;
      const s = this.slots.get(n);
      if (s !== undefined && s.digest !== null && s.batch !== null && s.committedLocal(this.f, this.primaryOf(s.view))) {
        this.execute(n, s.digest, s.batch);
        continue;
      }
      const fetched = this.batchVotes.decided(n);
      if (fetched !== null && this.inWindow(n)) {
        this.execute(n, fetched.digest, fetched.batch);
        continue;
      }
      return;
    }
  }

  private execute(n: number, digest: string, batch: Batch): void {
    invariant(n === this.lastExecuted + 1, () => `pbft: executing ${n} after ${this.lastExecuted}`);
    // OSDI §4.1 sends one REPLY per request; we send one per (origin replica, batch), carrying
    // every result for that origin, authenticated once (README Deviations: batched replies).
    const replies: Array<ReplyEntry[] | undefined> = [];
    const replyBytes: number[] = [];
    for (const request of batch) {
      const result = this.applyRequest(request);
      this.executedOut.push({ request, result, sequence: n });
      this.stats.executedRequests++;
      if (this.waiting.size > 0 || this.inFlight.size > 0) {
        const key = requestKey(request);
        this.waiting.delete(key);
        this.inFlight.delete(key);
      }
      const origin = request.origin;
      if (origin >= 0 && origin < this.n && origin !== this.self) {
        // Split at maxTransferBytes: a batch of gets may return many large values (message-bounds.ts).
        const size = 64 + 3 * request.clientId.length + resultWireBytesMax(result);
        const entries = replies[origin];
        if (entries !== undefined && (replyBytes[origin] ?? 0) + size > this.maxTransferBytes) {
          this.sendTo([origin], { type: 'Reply', view: this.view, replies: entries, replica: this.self, auth: NO_AUTH });
          replies[origin] = undefined;
          replyBytes[origin] = 0;
        }
        replyBytes[origin] = (replyBytes[origin] ?? 0) + size;
        (replies[origin] ??= []).push({ clientId: request.clientId, seq: request.seq, result });
      }
    }
    for (let origin = 0; origin < replies.length; origin++) {
      const entries = replies[origin];
      if (entries !== undefined) this.sendTo([origin], { type: 'Reply', view: this.view, replies: entries, replica: this.self, auth: NO_AUTH });
    }
    const s = this.slot(n);
    s.executed = digest;
    s.batches.set(digest, batch);
    this.dirtySlots.add(n);
    this.lastExecuted = n;
    this.observer?.executed(this.self, n, digest, batch);
    this.restartTimerOnProgress();
    if (n % this.K === 0) this.takeCheckpoint(n);
  }

  /** Applies one request through its session (exactly-once); its partitions' digests follow. */
  private applyRequest(request: ClientRequest): KvResult {
    return this.state.apply(request.operation, { clientId: request.clientId, seq: request.seq });
  }

  /**
   * OSDI §4.4: the timer stops when the replica waits for no request and restarts when it
   * still waits; it restarts only when the oldest waiting request executed, so a primary that
   * orders other requests cannot starve one forever.
   */
  private restartTimerOnProgress(): void {
    if (this.viewChanging) return;
    const oldest = this.waiting.keys().next();
    const key = oldest.done === true ? null : oldest.value;
    if (key === this.oldestWaiting) return;
    this.oldestWaiting = key;
    this.timer.progress(); // OSDI §4.5.2: a new request executed in this view resets the backoff
    if (key === null) this.timer.stop();
    else this.timer.start();
  }

  // ================================================================ §5.1.3 read-only requests

  private readResult(request: ClientRequest): KvResult | null {
    const op = request.operation;
    if (op.op !== 'get') return null;
    return { kind: 'get', value: this.state.get(op.key) };
  }

  private onReadRequest(m: ReadRequest): void {
    // Answer only the origin that asked, so a read cannot be reflected at a third replica.
    if (m.request.origin !== m.replica) return this.invalid();
    this.readOnly(m.request);
  }

  private onReadReply(m: ReadReply): void {
    this.readRepliesOut.push({ from: m.replica, clientId: m.clientId, seq: m.seq, result: m.result });
  }

  // ================================================================ §4.3 checkpoints

  /**
   * OSDI §4.3: after executing n = k*K, digest the state and multicast a signed Checkpoint. The
   * digest is incremental (TOCS §6.2.1, state-checkpoints.ts): O(partitions changed since the
   * last checkpoint), and the checkpoint keeps copy-on-write what it needs to serve its state.
   */
  private takeCheckpoint(n: number): void {
    const digest = this.state.checkpoints.checkpoint(n);
    const message = this.auth.sign<Checkpoint>({ type: 'Checkpoint', sequence: n, digest, replica: this.self, auth: NO_AUTH });
    this.ownCheckpoints.set(n, { digest, message });
    this.observer?.checkpoint(this.self, n, digest);
    for (const to of this.others) this.messagesOut.push({ to, message });
    this.collectCheckpoint(message);
  }

  private onCheckpoint(c: Checkpoint): void {
    if (c.sequence % this.K !== 0 || c.sequence === 0) return this.invalid();
    this.collectCheckpoint(c);
  }

  private collectCheckpoint(c: Checkpoint): void {
    if (c.sequence <= this.lastStable) return;
    const proof = this.checkpoints.add(c);
    // Behind only as far as f+1 replicas vouch (one is correct): one Checkpoint at a made-up
    // sequence number would otherwise have us Fetch, unanswered, every retransmission interval.
    this.highestSeen = Math.max(this.highestSeen, this.checkpoints.vouchedSequence(this.f + 1));
    if (proof !== null) this.onStableCertificate(c.sequence, c.digest, proof);
  }

  /** 2f+1 matching signed Checkpoints: stable if we have that state, else fetch it (TOCS §6.2). */
  private onStableCertificate(n: number, digest: string, proof: Checkpoint[]): void {
    if (n <= this.lastStable) return;
    if (n > this.lastExecuted) return this.startStateTransfer(n, digest, proof, proof[0]?.replica ?? this.others[0] ?? 0);
    const own = this.ownCheckpoints.get(n);
    if (own === undefined) return;
    // 2f+1 signers include f+1 correct replicas: a correct replica's state cannot differ.
    invariant(own.digest === digest, () => `pbft: replica ${this.self} state at ${n} diverges from the stable checkpoint`);
    this.makeStable(n, digest, proof);
  }

  /**
   * OSDI §4.3: the checkpoint becomes stable; h moves up and the log below it is discarded. In
   * the same atomic batch as the `cp` record go the keys changed since the previous stable
   * checkpoint, with their values at n (service-state.ts): the disk then holds the state at n.
   */
  private makeStable(n: number, digest: string, proof: Checkpoint[]): void {
    this.lastStable = n;
    this.stableDigest = digest;
    this.stableProof = proof;
    const record: CheckpointRecord = { sequence: n, digest, proof };
    this.persistOut.push({ key: 'cp', value: record }, ...this.state.stabilize(n));
    for (const [k, s] of this.slots) {
      if (k > n) continue;
      this.persistOut.push({ key: slotKey(k), delete: true });
      for (const d of s.persistedBatches) this.persistOut.push({ key: batchKey(k, d), delete: true });
      this.slots.delete(k);
      this.dirtySlots.delete(k);
    }
    for (const k of this.ownCheckpoints.keys()) if (k < n) this.ownCheckpoints.delete(k);
    this.checkpoints.discardUpTo(n);
    this.batchVotes.discardUpTo(n);
    if (this.isPrimary && this.lastAssigned < n) this.lastAssigned = n; // new n start above h
  }

  // ================================================================ §4.4 / TOCS §4.5 view changes

  private startRequestTimer(): void {
    if (this.viewChanging || this.waiting.size === 0) return;
    if (!this.timer.running) {
      const oldest = this.waiting.keys().next();
      this.oldestWaiting = oldest.done === true ? null : oldest.value;
    }
    this.timer.startIfStopped();
  }

  private onTimerExpired(): void {
    if (this.viewChanging || this.waiting.size > 0) this.startViewChange(this.view + 1);
  }

  /** OSDI §4.4: move to view v, stop accepting normal-case messages, multicast a ViewChange. */
  private startViewChange(v: number): void {
    if (v <= this.view && !(v === this.view && !this.viewChanging)) return;
    this.view = v;
    this.viewChanging = true;
    this.viewDirty = true;
    this.stats.viewChanges++;
    this.timer.viewChangeStarted();
    this.timer.stop(); // OSDI §4.5.2: the timer for v starts once 2f+1 ViewChanges for v arrived
    this.inFlight.clear();
    this.queue = [];
    this.queued.clear();
    this.forgetViewChangeBatches();
    const vc = this.auth.sign(this.buildViewChange(v));
    this.myViewChange = vc;
    this.persistOut.push({ key: 'vc', value: vc });
    for (const to of this.others) this.messagesOut.push({ to, message: vc });
    this.viewChanges.set(this.self, vc);
    this.maybeStartViewChangeTimer();
    if (this.primaryOf(v) === this.self) this.tryNewView();
  }

  /**
   * OSDI §4.5.2 liveness rule 1: a replica that sent a ViewChange for v starts its timer only once
   * 2f+1 replicas are in view change for v, so replicas do not drift through views one after the
   * other. We count ViewChanges for v or later (we keep only each replica's latest one): a
   * replica already beyond v will not come back, and waiting for it would wait forever.
   */
  private maybeStartViewChangeTimer(): void {
    if (!this.viewChanging || this.timer.running) return;
    let count = 0;
    for (const vc of this.viewChanges.values()) if (vc.view >= this.view) count++;
    if (count >= 2 * this.f + 1) this.timer.start();
  }

  /** TOCS §4.5: h and its proof, P (prepared) and Q (pre-prepared) for h < n <= h + L. */
  private buildViewChange(v: number): ViewChange {
    const prepared: ViewChange['prepared'] = [];
    const prePrepared: ViewChange['prePrepared'] = [];
    const batches: BatchEntry[] = [];
    let budget = this.maxCarriedBytes;
    const ns = [...this.slots.keys()].filter((k) => this.inWindow(k)).sort((a, b) => a - b);
    for (const n of ns) {
      const s = this.slots.get(n) as Slot;
      if (s.pView >= 0) {
        prepared.push({ sequence: n, digest: s.pDigest, view: s.pView });
        // Batches up to the carried bound; the new primary fetches the others (FetchBatches).
        const batch = s.batches.get(s.pDigest);
        const bytes = batch === undefined ? 0 : batchWireBytesMax(batch);
        if (batch !== undefined && bytes <= budget) {
          budget -= bytes;
          batches.push({ sequence: n, digest: s.pDigest, batch });
        }
      }
      for (const [digest, view] of s.q) prePrepared.push({ sequence: n, digest, view });
    }
    return {
      type: 'ViewChange',
      view: v,
      h: this.lastStable,
      checkpointDigest: this.stableDigest,
      checkpointProof: this.stableProof,
      prepared,
      prePrepared,
      batches,
      replica: this.self,
      auth: NO_AUTH,
    };
  }

  private onViewChange(vc: ViewChange): void {
    if (!validViewChange(vc, this.rules)) return this.invalid();
    const stripped = { ...vc, batches: vc.batches.filter((b) => this.digestOf(b.batch) === b.digest) };
    if (vc.view < this.view || (vc.view === this.view && !this.viewChanging)) return this.forwardNewView(vc.replica, vc.view);
    const prev = this.viewChanges.get(vc.replica);
    if (prev !== undefined && prev.view >= vc.view) return;
    this.viewChanges.set(vc.replica, stripped);
    this.maybeJoinViewChange();
    this.maybeStartViewChangeTimer();
    if (this.viewChanging && vc.view === this.view && this.primaryOf(this.view) === this.self) this.tryNewView();
  }

  /** OSDI §4.5.2: f+1 ViewChanges for views above ours: join the smallest of them. */
  private maybeJoinViewChange(): void {
    const higher: number[] = [];
    for (const [replica, vc] of this.viewChanges) if (replica !== this.self && vc.view > this.view) higher.push(vc.view);
    if (higher.length < this.f + 1) return;
    higher.sort((a, b) => a - b);
    // The smallest view among the f+1 highest claims (so at least one correct replica is there).
    const target = higher[higher.length - (this.f + 1)] as number;
    if (target > this.view) this.startViewChange(target);
  }

  /** A replica behind us asked for a view we already installed: forward the signed NewView. */
  private forwardNewView(to: number, view: number): void {
    const nv = this.lastNewView;
    if (nv === null || nv.view < view) return;
    const last = this.newViewSentAt.get(to) ?? -Infinity;
    if (this.ticks - last < this.retransmitTicks) return;
    this.newViewSentAt.set(to, this.ticks);
    this.messagesOut.push({ to, message: nv });
  }

  /** TOCS §4.5.2: the new primary decides once its ViewChanges allow it, then multicasts NewView. */
  private tryNewView(): void {
    const S = [...this.viewChanges.values()].filter((vc) => vc.view === this.view);
    if (S.length < 2 * this.f + 1) return;
    S.sort((a, b) => a.replica - b.replica);
    const batches = new Map<string, Batch>();
    for (const vc of S) for (const b of vc.batches) batches.set(b.digest, b.batch);
    const find = (d: string, n: number): Batch | undefined => batches.get(d) ?? this.knownBatch(d, n);
    const decision = decideNewView(S, this.f, this.nullDigest, (d, n) => find(d, n) !== undefined);
    if (decision === null) {
      // Perhaps only A3 is missing: fetch the prepared batches the ViewChanges did not carry.
      const wanted: Array<{ sequence: number; digest: string }> = [];
      for (const vc of S) for (const e of vc.prepared) if (e.digest !== this.nullDigest && find(e.digest, e.sequence) === undefined) wanted.push(e);
      return this.fetchBatches(wanted, this.others);
    }
    const resolved = new Map<string, Batch>();
    const carried: BatchEntry[] = [];
    let budget = this.maxCarriedBytes;
    for (const c of decision.chosen) {
      if (c.digest === this.nullDigest || resolved.has(c.digest)) continue;
      const batch = find(c.digest, c.sequence) as Batch;
      resolved.set(c.digest, batch);
      // Up to the carried bound; backups fetch the others from us (FetchBatches) before installing.
      const bytes = batchWireBytesMax(batch);
      if (bytes > budget) continue;
      budget -= bytes;
      carried.push({ sequence: c.sequence, digest: c.digest, batch });
    }
    const nv = this.auth.sign<NewView>({
      type: 'NewView',
      view: this.view,
      viewChanges: S.map((vc) => ({ ...vc, batches: [] })),
      h: decision.h,
      chosen: decision.chosen,
      batches: carried,
      replica: this.self,
      auth: NO_AUTH,
    });
    for (const to of this.others) this.messagesOut.push({ to, message: nv });
    this.installNewView(nv, decision, resolved);
  }

  /** TOCS §4.5.3: a backup accepts a NewView after recomputing its decision from its ViewChanges. */
  private onNewView(nv: NewView): void {
    if (nv.replica !== this.primaryOf(nv.view)) return this.invalid();
    if (nv.view < this.view || (nv.view === this.view && !this.viewChanging)) return;
    const carried = new Map<string, Batch>();
    for (const b of nv.batches) if (this.digestOf(b.batch) === b.digest) carried.set(b.digest, b.batch);
    const chosenAt = new Map(nv.chosen.map((c) => [c.sequence, c.digest]));
    const decision = verifyNewView(nv, this.rules, this.nullDigest, (d, n) => chosenAt.get(n) === d);
    if (decision === null) return this.invalid();
    const resolved = new Map<string, Batch>();
    const missing: Array<{ sequence: number; digest: string }> = [];
    for (const c of decision.chosen) {
      if (c.digest === this.nullDigest || c.sequence <= this.lastStable) continue;
      const batch = carried.get(c.digest) ?? this.knownBatch(c.digest, c.sequence);
      if (batch === undefined) missing.push(c);
      else resolved.set(c.digest, batch);
    }
    if (missing.length > 0) {
      // Not carried (the NewView is bounded): fetch them (the primary has them all), then install.
      this.pendingNewView = nv;
      this.pendingNeeds.clear();
      for (const c of missing) this.pendingNeeds.add(c.digest);
      return this.fetchBatches(missing, [nv.replica, ...this.others.filter((k) => k !== nv.replica)]);
    }
    this.installNewView(nv, decision, resolved);
  }

  private forgetViewChangeBatches(): void {
    this.heldBatches.clear();
    this.heldBytes = 0;
    this.wantedBatches.clear();
    this.pendingNewView = null;
    this.pendingNeeds.clear();
  }

  /** A batch this replica holds for (n, d): a fetched one, or one in its log (P/Q evidence). */
  private knownBatch(digest: string, n: number): Batch | undefined {
    return this.heldBatches.get(digest) ?? this.slots.get(n)?.batches.get(digest);
  }

  /** TOCS §4.5: ask for the batches a view change needs and this replica lacks (bounded). */
  private fetchBatches(wanted: Array<{ sequence: number; digest: string }>, from: readonly number[]): void {
    const ask: Array<{ sequence: number; digest: string }> = [];
    const seen = new Set<string>();
    for (const e of wanted) {
      if (seen.has(e.digest) || ask.length >= FETCH_ENTRIES_MAX) continue;
      seen.add(e.digest);
      if (this.wantedBatches.size < 4 * this.L) this.wantedBatches.add(e.digest);
      if (this.wantedBatches.has(e.digest)) ask.push({ sequence: e.sequence, digest: e.digest });
    }
    if (ask.length > 0) this.sendTo(from, { type: 'FetchBatches', wanted: ask, replica: this.self, auth: NO_AUTH });
  }

  /** Serve the batches we hold for the asked (n, d), up to maxTransferBytes (at least one). */
  private onFetchBatches(m: FetchBatches): void {
    const entries: BatchEntry[] = [];
    let bytes = 0;
    for (const w of m.wanted.slice(0, FETCH_ENTRIES_MAX)) {
      const batch = this.knownBatch(w.digest, w.sequence);
      if (batch === undefined) continue;
      bytes += batchWireBytesMax(batch);
      if (entries.length > 0 && bytes > this.maxTransferBytes) break;
      entries.push({ sequence: w.sequence, digest: w.digest, batch });
    }
    if (entries.length > 0) this.sendTo([m.replica], { type: 'Batches', entries, replica: this.self, auth: NO_AUTH });
  }

  /**
   * Fetched batches: kept if asked for and they match their digest, up to 4 x maxCarriedBatchBytes
   * (a faulty replica can name made-up digests in its P set and serve big batches for them); then
   * retry the view change. The batches a verified NewView needs are kept beyond that bound: the
   * NewView proves each was pre-prepared by a correct replica (A2), and names at most L of them.
   */
  private onBatches(m: Batches): void {
    let added = false;
    for (const e of m.entries) {
      if (!this.wantedBatches.has(e.digest) || this.heldBatches.has(e.digest)) continue;
      const bytes = batchWireBytesMax(e.batch);
      if (!this.pendingNeeds.has(e.digest) && this.heldBytes + bytes > 4 * this.maxCarriedBytes) continue;
      if (this.digestOf(e.batch) !== e.digest) return this.invalid();
      this.heldBatches.set(e.digest, e.batch);
      this.heldBytes += bytes;
      added = true;
    }
    if (!added) return;
    const pending = this.pendingNewView;
    if (pending !== null) {
      this.pendingNewView = null;
      this.onNewView(pending);
    } else if (this.viewChanging && this.primaryOf(this.view) === this.self) this.tryNewView();
  }

  /** Enter view v: adopt the checkpoint, pre-prepare every chosen n in v, send Prepares (TOCS §4.5.3). */
  private installNewView(nv: NewView, decision: NewViewDecision, batches: Map<string, Batch>): void {
    this.view = nv.view;
    this.viewChanging = false;
    this.viewDirty = true;
    this.lastNewView = nv;
    this.persistOut.push({ key: 'nv', value: nv });
    this.forgetViewChangeBatches();
    for (const [replica, vc] of this.viewChanges) if (vc.view <= nv.view) this.viewChanges.delete(replica);
    this.timer.stop();
    this.startRequestTimer();
    this.adoptCheckpoint(decision);
    let maxN = decision.h;
    for (const c of decision.chosen) {
      maxN = Math.max(maxN, c.sequence);
      if (c.sequence <= this.lastStable) continue;
      const batch = c.digest === this.nullDigest ? [] : (batches.get(c.digest) as Batch);
      const s = this.slot(c.sequence);
      s.acceptPrePrepare(nv.view, c.digest, batch);
      s.touched = this.ticks;
      this.dirtySlots.add(c.sequence);
      if (!this.isPrimary) this.sendPrepare(s);
    }
    this.highestSeen = Math.max(this.highestSeen, maxN);
    if (this.isPrimary) this.becomePrimary(decision, maxN);
    else this.relayWaiting(RESEND_CAP);
    for (const c of decision.chosen) {
      const s = this.slots.get(c.sequence);
      if (s !== undefined) this.advanceSlot(s);
    }
  }

  private adoptCheckpoint(d: NewViewDecision): void {
    if (d.h <= this.lastStable) return;
    const own = this.ownCheckpoints.get(d.h);
    if (d.h <= this.lastExecuted && own !== undefined && own.digest === d.hDigest) this.makeStable(d.h, d.hDigest, d.hProof);
    else if (d.h > this.lastExecuted) this.startStateTransfer(d.h, d.hDigest, d.hProof, d.hProof[0]?.replica ?? this.primaryOf(this.view));
  }

  private becomePrimary(decision: NewViewDecision, maxN: number): void {
    this.lastAssigned = Math.max(maxN, this.lastStable);
    this.inFlight.clear();
    for (const c of decision.chosen) {
      const s = this.slots.get(c.sequence);
      if (s === undefined || s.executed !== null || s.batch === null) continue;
      for (const r of s.batch) this.inFlight.add(requestKey(r));
    }
    for (const w of this.waiting.values()) this.enqueue(w.request);
  }

  private relayWaiting(cap: number): void {
    let sent = 0;
    const primary = this.primaryOf(this.view);
    for (const w of this.waiting.values()) {
      if (sent++ >= cap) return;
      this.sendTo([primary], { type: 'Request', request: w.request, replica: this.self, auth: NO_AUTH });
    }
  }

  // ================================================================ TOCS §6.2 state transfer

  private startStateTransfer(n: number, digest: string, proof: Checkpoint[], source: number, request = true): void {
    if (n <= this.lastExecuted) return;
    if (this.stateTransfer !== null && this.stateTransfer.sequence >= n) return;
    const from = source === this.self ? ((this.self + 1) % this.n) : source;
    // Partitions verified for an older checkpoint are kept if the newer tree has the same digests.
    const carried = this.stateTransfer?.verified();
    this.stateTransfer = new StateTransfer(n, digest, proof, from, this.state.checkpoints.widths.length - 1, carried);
    if (request) this.requestState();
  }

  /** TOCS §6.2: asks the source for the next tree nodes (top-down) and the partitions that differ. */
  private requestState(): void {
    const st = this.stateTransfer;
    if (st === null) return;
    if (st.done()) return this.finishStateTransfer(st);
    const { nodes, parts } = st.nextRequests();
    const base = { sequence: st.sequence, digest: st.digest, replica: this.self, auth: NO_AUTH };
    if (nodes.length > 0) this.sendTo([st.source], { type: 'FetchMeta', ...base, nodes } satisfies FetchMeta);
    if (parts.length > 0) this.sendTo([st.source], { type: 'FetchPartitions', ...base, parts } satisfies FetchPartitions);
  }

  private stableCheckpoint(): StableCheckpoint {
    return { sequence: this.lastStable, digest: this.stableDigest, proof: this.stableProof };
  }

  private onFetchMeta(m: FetchMeta): void {
    if (this.lastStable === 0) return;
    const reply = metaReply(this.state.checkpoints, this.stableCheckpoint(), m, this.self);
    if (reply !== null) this.sendTo([m.replica], reply);
  }

  private onFetchPartitions(m: FetchPartitions): void {
    if (this.lastStable === 0) return;
    const chunks = partitionChunks(this.state.checkpoints, this.stableCheckpoint(), m, this.maxTransferBytes, this.self);
    // Asked for an older checkpoint, which we no longer keep: our root, so that the asker moves on.
    const moved = chunks.length === 0 ? metaReply(this.state.checkpoints, this.stableCheckpoint(), m, this.self) : null;
    for (const reply of moved === null ? chunks : [moved]) this.sendTo([m.replica], reply);
  }

  private onMeta(m: Meta): void {
    if (m.sequence <= this.lastExecuted) return;
    if (this.stateTransfer === null || m.sequence > this.stateTransfer.sequence) {
      if (!validCheckpointProof(m.sequence, m.digest, m.proof, this.rules)) return this.invalid();
      // A server that moved on answers with its newer root: take it as asked for.
      this.startStateTransfer(m.sequence, m.digest, m.proof, m.replica, false);
    }
    const st = this.stateTransfer;
    // Each node verifies itself against the certified tree, so a late answer from an earlier
    // source counts too (on a lossy network the source may have changed since we asked).
    if (st === null || st.sequence !== m.sequence || st.digest !== m.digest) return;
    const live = this.state.checkpoints;
    live.refresh();
    const digest = (bytes: Uint8Array): string => this.crypto.digest(bytes);
    for (const node of m.nodes) if (!st.onNode(node, live.widths, live, digest)) return this.badStateSource(st, m.replica);
    this.stateAnswered(st);
  }

  private onPartitionChunk(m: PartitionChunk): void {
    const st = this.stateTransfer;
    // A whole partition in one chunk verifies itself (from anyone); the pieces of a larger one
    // are taken from the current source only, so that no one else can spoil its assembly.
    const fromSource = m.replica === st?.source;
    if (st === null || st.sequence !== m.sequence || st.digest !== m.digest || (!fromSource && m.offset !== 0)) return;
    let items: unknown;
    try {
      items = decodeValue(m.bytes);
    } catch {
      return this.badStateSource(st, m.replica);
    }
    if (!Array.isArray(items)) return this.badStateSource(st, m.replica);
    if (!fromSource && items.length !== m.total) return;
    if (st.onChunk(m.partition, m.offset, m.total, items, (bytes) => this.crypto.digest(bytes)) === 'invalid') return this.badStateSource(st, m.replica);
    this.stateAnswered(st);
  }

  /** One expected reply is in; once all are, the next requests (or the end) follow. */
  private stateAnswered(st: StateTransfer): void {
    st.outstanding = Math.max(0, st.outstanding - 1);
    if (st.outstanding === 0) this.requestState();
  }

  /** A replica sent what the certificate refutes: if it is our source, ask the next replica. */
  private badStateSource(st: StateTransfer, from: number): void {
    this.invalid();
    if (from !== st.source) return;
    st.source = this.nextSource(st.source);
    st.dropPartial();
    this.requestState();
  }

  /**
   * Every differing partition is in. The live state may have moved on while we fetched (we keep
   * executing): the root with the fetched partitions in place must be the certified one, else
   * walk the tree again (keeping what was fetched).
   */
  private finishStateTransfer(st: StateTransfer): void {
    const root = this.state.rootWith(st.fetchedLeaves());
    if (checkpointDigest((bytes) => this.crypto.digest(bytes), st.sequence, root) !== st.digest) {
      st.restartWalk();
      return this.requestState();
    }
    this.installState(st);
  }

  private installState(st: StateTransfer): void {
    this.persistOut.push(...this.state.install(st.sequence, st.fetched));
    invariant(this.state.checkpoints.digestAt(st.sequence) === st.digest, () => `pbft: replica ${this.self} installed a state at ${st.sequence} that is not the certified one`);
    this.lastTransfer = { sequence: st.sequence, ...st.counts };
    this.stateTransfer = null;
    this.stats.stateTransfers++;
    this.lastExecuted = st.sequence;
    this.inFlight.clear();
    for (const [key, w] of this.waiting) if (this.cachedResult(w.request) !== null) this.waiting.delete(key);
    this.restartTimerOnProgress();
    const message = this.auth.sign<Checkpoint>({ type: 'Checkpoint', sequence: st.sequence, digest: st.digest, replica: this.self, auth: NO_AUTH });
    this.ownCheckpoints.set(st.sequence, { digest: st.digest, message });
    this.observer?.checkpoint(this.self, st.sequence, st.digest);
    this.makeStable(st.sequence, st.digest, st.proof);
    if (this.isPrimary && this.lastAssigned < st.sequence) this.lastAssigned = st.sequence;
    this.executeReady();
  }

  /** What the last state transfer fetched (tests): tree nodes and leaf partitions. */
  lastStateTransfer(): { sequence: number; metaNodes: number; partitions: number } | null {
    return this.lastTransfer;
  }

  private nextSource(current: number): number {
    let next = (current + 1) % this.n;
    if (next === this.self) next = (next + 1) % this.n;
    return next;
  }

  /** Committed batches from `from` on, capped; plus the stable proof if `from` is below it. */
  private onFetch(m: Fetch): void {
    const entries: BatchEntry[] = [];
    let bytes = 0;
    for (let k = Math.max(m.from, this.lastStable + 1); k <= this.lastExecuted && entries.length < FETCH_ENTRIES_MAX; k++) {
      const s = this.slots.get(k);
      const batch = s?.executed != null ? s.batches.get(s.executed) : undefined;
      if (s === undefined || s.executed === null || batch === undefined) break;
      for (const r of batch) bytes += requestSize(r);
      if (entries.length > 0 && bytes > this.maxTransferBytes) break;
      entries.push({ sequence: k, digest: s.executed, batch });
    }
    // Our stable checkpoint's proof when the asker's is older: below it we have no batches to
    // give (state transfer), and at or above it the asker's window (h, h + L] may be too low to
    // execute what we send (OSDI §4.3: it cannot move h without 2f+1 Checkpoints, which nobody
    // resends once they are stable).
    const stable = (m.from <= this.lastStable || m.h < this.lastStable) && this.lastStable > 0 ? { sequence: this.lastStable, digest: this.stableDigest, proof: this.stableProof } : null;
    this.resendPrePreparesTo(m.replica, m.from);
    if (entries.length === 0 && stable === null) return;
    const reply: FetchReply = { type: 'FetchReply', entries, stable, replica: this.self, auth: NO_AUTH };
    this.sendTo([m.replica], reply);
  }

  /**
   * The primary answers a replica that asks for batches from n on with its PrePrepares of this
   * view from n on, as well (OSDI §4.2; resending our own message is always safe). A FetchReply's
   * batch is taken only once f+1 replicas report it, so when only f correct replicas executed n,
   * the asker can get n only by preparing it, and it cannot prepare without the PrePrepare it
   * lost in a crash; its Prepare may in turn be the one the others lack (seed 1809245894, 7
   * replicas: two correct ones executed n=8, the other three waited forever).
   */
  private resendPrePreparesTo(to: number, from: number): void {
    if (!this.isPrimary || this.viewChanging || to === this.self) return;
    for (let k = Math.max(from, this.lastStable + 1); k <= this.lastAssigned && k < from + FETCH_ENTRIES_MAX; k++) {
      const s = this.slots.get(k);
      if (s === undefined || s.view !== this.view || s.digest === null || s.batch === null) continue;
      this.sendTo([to], { type: 'PrePrepare', view: s.view, sequence: s.sequence, digest: s.digest, batch: s.batch, replica: this.self, auth: NO_AUTH });
    }
  }

  private onFetchReply(m: FetchReply): void {
    const st = m.stable;
    if (st !== null && st.sequence > this.lastStable && validCheckpointProof(st.sequence, st.digest, st.proof, this.rules)) {
      // Beyond what we executed: fetch the state; otherwise our own checkpoint becomes stable.
      if (st.sequence > this.lastExecuted) this.startStateTransfer(st.sequence, st.digest, st.proof, m.replica);
      else this.onStableCertificate(st.sequence, st.digest, st.proof);
    }
    for (const e of m.entries) {
      if (e.sequence <= this.lastExecuted || e.sequence > this.lastExecuted + 2 * this.L) continue;
      if (this.digestOf(e.batch) !== e.digest) return this.invalid();
      this.batchVotes.add(e.sequence, e.digest, e.batch, m.replica);
    }
    this.executeReady();
  }

  // ================================================================ retransmission

  /** Resend what may have been lost; every resent message is one the replica sent before. */
  private retransmit(): void {
    if (this.viewChanging) {
      if (this.myViewChange !== null && this.myViewChange.view === this.view) {
        for (const to of this.others) this.messagesOut.push({ to, message: this.myViewChange });
      }
      if (this.primaryOf(this.view) === this.self) this.tryNewView();
      const pending = this.pendingNewView;
      if (pending !== null) {
        this.pendingNewView = null;
        this.onNewView(pending); // asks again for the batches still missing
      }
    } else {
      this.resendSlots();
    }
    this.resendRequests();
    for (const [n, own] of this.ownCheckpoints) {
      if (n > this.lastStable) for (const to of this.others) this.messagesOut.push({ to, message: own.message });
    }
    this.fetchIfStuck();
    const st = this.stateTransfer;
    if (st !== null && st.sequence <= this.lastExecuted) this.stateTransfer = null; // caught up by executing
    else if (st !== null) {
      // No progress since the last interval: the source is slow, lossy or lying; try the next one.
      // Partial partitions continue there: correct replicas page a partition alike (sorted).
      if (st.progress === st.progressAtLastRetransmit) st.source = this.nextSource(st.source);
      st.progressAtLastRetransmit = st.progress;
      this.requestState();
    }
  }

  private resendSlots(): void {
    const primary = this.isPrimary;
    for (const s of this.slots.values()) {
      if (s.executed !== null || s.view !== this.view || s.digest === null || this.ticks - s.touched < this.retransmitTicks) continue;
      if (s.committedLocal(this.f, this.primaryOf(s.view))) continue; // others lagging ask (helpLagging)
      if (primary) {
        const batch = s.batch ?? [];
        this.sendTo(this.others, { type: 'PrePrepare', view: s.view, sequence: s.sequence, digest: s.digest, batch, replica: this.self, auth: NO_AUTH });
      }
      if (s.sentPrepare) this.sendTo(this.others, this.ownPrepare(s));
      if (s.sentCommit) this.sendTo(this.others, this.ownCommit(s));
    }
  }

  /** The client's retransmission (OSDI §4.1), done by the replica holding the request. */
  private resendRequests(): void {
    if (this.isPrimary && !this.viewChanging) {
      for (const w of this.waiting.values()) this.enqueue(w.request);
      return;
    }
    let sent = 0;
    for (const w of this.waiting.values()) {
      if (this.ticks - w.since < this.retransmitTicks) continue;
      if (sent++ >= RESEND_CAP) return;
      const m: RequestMessage = { type: 'Request', request: w.request, replica: this.self, auth: NO_AUTH };
      // After a while, multicast it so every backup relays it and starts its timer (OSDI §4.1).
      // In a view change this replica cannot order anything: let the others relay it.
      const late = (this.ticks - w.since >= 2 * this.retransmitTicks && !w.multicast) || this.viewChanging;
      if (late) w.multicast = true;
      this.sendTo(late ? this.others : [this.primaryOf(this.view)], m);
    }
  }

  /**
   * No progress while others are ahead: ask everyone for the committed batches after ours. A
   * replica that made no progress for a while (restarted, wiped, partitioned away from an idle
   * cluster) also asks now and then: it cannot know it is behind until someone tells it.
   */
  private fetchIfStuck(): void {
    const idle = this.lastExecuted === this.executedAtLastRetransmit;
    this.idleRetransmits = idle ? this.idleRetransmits + 1 : 0;
    this.executedAtLastRetransmit = this.lastExecuted;
    const behind = this.highestSeen > this.lastExecuted && idle;
    if (!behind && this.idleRetransmits % PROBE_EVERY_RETRANSMITS !== 1) return;
    this.sendTo(this.others, { type: 'Fetch', from: this.lastExecuted + 1, h: this.lastStable, replica: this.self, auth: NO_AUTH });
  }

  // ================================================================ sending and persisting

  /** d = D(m) of a batch (OSDI §4.2). */
  private digestOf(batch: Batch): string {
    return batchDigest(batch, (bytes) => this.crypto.digest(bytes));
  }

  private sendTo(receivers: readonly number[], m: PbftMessage): void {
    for (const out of this.auth.seal(m, receivers)) this.messagesOut.push(out);
  }

  private collectPersist(): PersistRecord[] {
    const out = this.persistOut;
    this.persistOut = [];
    if (this.viewDirty) {
      const record: ViewRecord = { view: this.view, viewChanging: this.viewChanging, consecutive: this.timer.consecutive };
      out.push({ key: 'view', value: record });
      this.viewDirty = false;
    }
    for (const n of this.dirtySlots) {
      const s = this.slots.get(n);
      if (s === undefined) continue;
      for (const [d, batch] of s.batches) {
        if (s.persistedBatches.has(d)) continue;
        s.persistedBatches.add(d);
        out.push({ key: batchKey(n, d), value: batch });
      }
      out.push({ key: slotKey(n), value: slotRecord(s) });
    }
    this.dirtySlots.clear();
    return out;
  }

  // ================================================================ restore (TOCS §4.6)

  /** Rebuilds a replica from everything it persisted: it never contradicts what it sent before. */
  static restore(config: PbftConfig, crypto: PbftCrypto, rng: Rng, records: Array<[string, unknown]>): PbftReplica {
    const r = new PbftReplica(config, crypto, rng);
    r.load(records);
    return r;
  }

  private load(records: Array<[string, unknown]>): void {
    const slotRecords = new Map<number, SlotRecord>();
    const batches = new Map<number, Map<string, Batch>>();
    let cp: CheckpointRecord | null = null;
    for (const [key, value] of records) {
      if (key === 'view') this.loadView(value as ViewRecord);
      else if (key === 'cp') cp = value as CheckpointRecord;
      else if (key === 'vc') this.myViewChange = value as ViewChange;
      else if (key === 'nv') this.lastNewView = value as NewView;
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
    if (cp !== null) this.loadCheckpoint(cp, records);
    for (const [n, rec] of slotRecords) {
      if (n <= this.lastStable) continue;
      this.slots.set(n, slotFromRecord(n, rec, batches.get(n) ?? new Map(), this.self));
      this.highestSeen = Math.max(this.highestSeen, n);
      if (rec.digest !== null && rec.view === this.view && this.primaryOf(rec.view) === this.self) this.lastAssigned = Math.max(this.lastAssigned, n);
    }
    this.lastAssigned = Math.max(this.lastAssigned, this.lastStable);
    this.replayExecuted();
    if (this.myViewChange !== null && this.myViewChange.view === this.view) this.viewChanges.set(this.self, this.myViewChange);
  }

  private loadView(v: ViewRecord): void {
    this.view = v.view;
    this.viewChanging = v.viewChanging;
    this.timer.consecutive = v.consecutive;
  }

  /** The stable checkpoint from its `cp` record and the state records beside it (service-state.ts). */
  private loadCheckpoint(cp: CheckpointRecord, records: ReadonlyArray<[string, unknown]>): void {
    // Before incremental checkpoints a `cp` record held the whole state's bytes, digested whole:
    // that format is not read any more, and starting on it would be a digest mismatch.
    invariant(!('state' in cp), () => `pbft: replica ${this.self}: its data directory holds a checkpoint in the old whole-state format; wipe it (npm run cluster:pbft -- --fresh) and let state transfer fill it`);
    const digest = this.state.load(cp.sequence, records);
    invariant(digest === cp.digest, () => `pbft: replica ${this.self}: the persisted state does not match its checkpoint ${cp.sequence}`);
    this.lastStable = cp.sequence;
    this.lastExecuted = cp.sequence;
    this.stableDigest = cp.digest;
    this.stableProof = cp.proof;
  }

  /** Re-execute the batches executed after the stable checkpoint, silently (replies were sent). */
  private replayExecuted(): void {
    for (;;) {
      const n = this.lastExecuted + 1;
      const s = this.slots.get(n);
      const batch = s?.executed != null ? s.batches.get(s.executed) : undefined;
      if (s === undefined || s.executed === null || batch === undefined) break;
      for (const request of batch) this.applyRequest(request);
      this.lastExecuted = n;
      if (n % this.K === 0) this.takeCheckpoint(n);
    }
  }
}
