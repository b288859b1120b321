import type { KvCommand, KvOperation, KvResult, SessionTag } from '../../protocols/kv/commands.js';
import type { ClientRequest } from '../../protocols/pbft/types.js';
import type { PbftDebugState } from '../debug/debug-state.js';
import { ServiceError } from '../http/errors.js';
import type { KvService } from '../http/kv-service.js';
import type { ReplicaMetrics } from '../metrics.js';
import { ClientLanes, ReadOnlyTags, type Lane } from './client-lanes.js';
import { OwnResultWaiters, type OwnResult } from './own-result-waiters.js';
import { GatewayStats } from './gateway-stats.js';
import { ResultQuorum } from './result-quorum.js';

/** A PBFT request as the gateway builds it: origin = this replica, or -1 for a library client. */
export type GatewayRequest = ClientRequest;

/** What the gateway needs from the replica runtime (nodes/pbft/pbft-replica-node.ts). */
export interface PbftGatewayPort {
  readonly id: string;
  /** Replicas, this one's index, and f = floor((n-1)/3). */
  readonly n: number;
  readonly self: number;
  readonly f: number;
  /** Hand a request to the core (as an input of the ready loop); `overloaded` if it refuses it. */
  submit(request: GatewayRequest, overloaded: () => void): void;
  /** The read-only optimisation: every replica answers from its state (§5.1.3). */
  readOnly(request: GatewayRequest): void;
  /** This replica's executed state, for `?consistency=stale`. */
  readLocal(key: string): string | null;
  primaryId(): string | null;
  httpUrlOf(id: string): string | null;
  status(): Record<string, unknown>;
  /** The dashboard's view of this replica (nodes/debug/debug-state.ts). */
  debugState(): PbftDebugState;
  healthy(): boolean;
  /** Stop the runtime (timers, loop); the gateway has already failed its waiters. */
  shutdown(): Promise<void>;
}

export interface GatewayLimits {
  requestTimeoutMs: number;
  readOnlyTimeoutMs: number;
  maxPendingRequests: number;
  /** Resend a request not yet answered after this long, then twice as long, ... (§4.1: clients retransmit). */
  retransmitMs: number;
}

interface Pending {
  request: GatewayRequest;
  quorum: ResultQuorum;
  waiters: Array<{ resolve: (r: KvResult) => void; reject: (e: Error) => void }>;
  deadlineMs: number;
  /** Ordered requests are resent until answered; read-only ones fall back instead. */
  readOnly: boolean;
  nextSendMs: number;
  sends: number;
  lane: Lane | null;
}

const tagKey = (clientId: string, seq: number): string => `${clientId}\u0000${seq}`;
const timeout = (what: string): ServiceError =>
  new ServiceError('TIMEOUT', `${what} did not gather enough matching replies in time; the outcome is unknown`);
const overloaded = (): ServiceError => new ServiceError('OVERLOADED', 'too many requests in flight at this replica', {}, 1);

/** Raised inside the read path when the read-only optimisation did not reach 2f+1 matching replies. */
class ReadOnlyFailed extends Error {}

/**
 * The HTTP API of a PBFT replica (docs/design.md §4.3): every replica is a gateway. A write becomes a
 * PBFT request whose origin is this replica; the answer waits for f+1 matching replies from
 * distinct replicas, this replica's own execution counting as one (Castro and Liskov §4.1: f+1
 * replies include at least one correct replica's). A linearizable read first tries the read-only
 * optimisation (§5.1.3: 2f+1 matching replies) and falls back to ordering a `get` through the
 * protocol. `?consistency=stale` reads this replica's own state. With x-client-id/x-request-seq
 * the pair is the PBFT client id and timestamp, so a retry is answered from the replicated reply
 * cache and not executed twice.
 */
export class PbftKvService implements KvService {
  readonly protocol = 'pbft';
  readonly stats = new GatewayStats();
  private readonly pending = new Map<string, Pending>();
  /** Library requests waiting for this replica's own execution, and its own read-only answer. */
  private readonly own = new OwnResultWaiters();
  private readonly ownReads = new OwnResultWaiters();
  private readonly lanes: ClientLanes;
  private readonly readTags: ReadOnlyTags;
  private closed = false;

  constructor(
    private readonly port: PbftGatewayPort,
    private readonly limits: GatewayLimits,
  ) {
    this.lanes = new ClientLanes(port.id);
    this.readTags = new ReadOnlyTags(port.id);
  }

  get id(): string {
    return this.port.id;
  }

  /** This replica's index among the n (the core's numbering). */
  get index(): number {
    return this.port.self;
  }

  get pendingCount(): number {
    return this.pending.size + this.own.size + this.ownReads.size;
  }

  // ---- KvService -----------------------------------------------------------------------

  /** The primary of the current view; never a reason to forward, since any replica is a gateway. */
  leader(): string | null {
    return this.port.primaryId();
  }

  httpUrlOf(id: string): string | null {
    return this.port.httpUrlOf(id);
  }

  healthy(): boolean {
    return !this.closed && this.port.healthy();
  }

  async execute(command: KvCommand): Promise<KvResult> {
    this.admit();
    this.stats.writes++;
    return this.ordered(command.operation, command.session);
  }

  async readLinearizable(key: string): Promise<string | null> {
    this.admit();
    this.stats.reads++;
    try {
      const result = await this.readOnlyRound(key);
      this.stats.readOnlyServed++;
      return valueOf(result);
    } catch (err) {
      if (!(err instanceof ReadOnlyFailed)) throw err;
      this.stats.readOnlyFallbacks++;
      return valueOf(await this.ordered({ op: 'get', key }, null));
    }
  }

  readStale(key: string): string | null {
    return this.port.readLocal(key);
  }

  status(): Record<string, unknown> {
    return { ...this.port.status(), pendingRequests: this.pending.size, pendingLibraryRequests: this.own.size, gatewayLanes: this.lanes.created };
  }

  /** The gateway's counters, in the process's registry (the runtime's are registered by the runtime). */
  registerMetrics(metrics: ReplicaMetrics): void {
    this.stats.register(metrics, () => this.pending.size);
  }

  /** `--debug-api` (nodes/debug/debug-source.ts): what the dashboard draws. */
  debugState(): PbftDebugState {
    return this.port.debugState();
  }

  // ---- the library route (POST /pbft/request) ------------------------------------------------

  /** Submit a library client's request (origin -1) and wait for this replica's own execution of it. */
  ownExecution(tag: SessionTag, operation: KvOperation): Promise<OwnResult> {
    this.admit();
    this.stats.libraryRequests++;
    const key = tagKey(tag.clientId, tag.seq);
    const answer = this.own.wait(key, Date.now() + this.limits.requestTimeoutMs);
    this.port.submit({ clientId: tag.clientId, seq: tag.seq, operation, origin: -1 }, () => this.own.fail(key, overloaded()));
    return answer;
  }

  /** A library client's read-only request (origin -1): this replica's own answer from its state (§5.1.3). */
  ownReadOnly(tag: SessionTag, key: string): Promise<OwnResult> {
    this.admit();
    this.stats.libraryRequests++;
    const answer = this.ownReads.wait(tagKey(tag.clientId, tag.seq), Date.now() + this.limits.readOnlyTimeoutMs);
    this.port.readOnly({ clientId: tag.clientId, seq: tag.seq, operation: { op: 'get', key }, origin: -1 });
    return answer;
  }

  // ---- events from the runtime -----------------------------------------------------------

  /** The core executed a request here (PbftReady.executed). */
  executed(request: GatewayRequest, result: KvResult, sequence: number): void {
    const key = tagKey(request.clientId, request.seq);
    this.own.settle(key, { result, sequence });
    this.reply(this.port.self, request.clientId, request.seq, result);
  }

  /**
   * Whether a REPLY (or read-only reply) for (clientId, seq) can still matter here. Once a request
   * has its f+1 (2f+1) matching replies, the rest only cost verification (OSDI §4.1: the client
   * discards them); the runtime drops them before the core authenticates them.
   */
  awaitsReply(clientId: string, seq: number): boolean {
    return this.pending.has(tagKey(clientId, seq));
  }

  /** A verified REPLY (or this replica's own result) for a request this gateway originated. */
  reply(from: number, clientId: string, seq: number, result: KvResult): void {
    const key = tagKey(clientId, seq);
    const p = this.pending.get(key);
    if (p === undefined || p.readOnly) return;
    this.offer(key, p, from, result);
  }

  /** A read-only reply (§5.1.3), this replica's own included. */
  readReply(from: number, clientId: string, seq: number, result: KvResult): void {
    const key = tagKey(clientId, seq);
    if (from === this.port.self) this.ownReads.settle(key, { result, sequence: 0 });
    const p = this.pending.get(key);
    if (p === undefined || !p.readOnly) return;
    this.offer(key, p, from, result);
    if (this.pending.get(key) === p && p.quorum.hopeless()) this.finish(key, p, new ReadOnlyFailed());
  }

  /** Time passes: expire, resend, give up on read-only rounds (called every ~50 ms). */
  sweep(nowMs: number): void {
    for (const [key, p] of this.pending) {
      if (p.deadlineMs <= nowMs) this.expire(key, p);
      else if (!p.readOnly && p.nextSendMs <= nowMs) this.resend(p, nowMs);
    }
    this.stats.timeouts += this.own.expire(nowMs, () => timeout('the request'));
    this.ownReads.expire(nowMs, () => timeout('the read-only request'));
  }

  /** Fail every waiting client (the replica is stopping), then stop the runtime. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = (): ServiceError => new ServiceError('NO_LEADER', 'the replica is shutting down', {}, 1);
    for (const [key, p] of this.pending) this.finish(key, p, closing());
    this.own.failAll(closing);
    this.ownReads.failAll(closing);
    await this.port.shutdown();
  }

  // ---- internals -------------------------------------------------------------------------

  private admit(): void {
    if (this.closed) throw new ServiceError('NO_LEADER', 'the replica is shutting down', {}, 1);
    if (this.pendingCount >= this.limits.maxPendingRequests) {
      this.stats.overloaded++;
      throw overloaded();
    }
  }

  /** An ordered request (§4.2, the three-phase protocol), answered with f+1 matching replies. */
  private ordered(operation: KvOperation, session: SessionTag | null): Promise<KvResult> {
    const lease = session === null ? this.lanes.acquire() : null;
    const tag = session ?? lease!;
    const request: GatewayRequest = { clientId: tag.clientId, seq: tag.seq, operation, origin: this.port.self };
    return this.track(request, this.port.f + 1, false, this.limits.requestTimeoutMs, lease?.lane ?? null);
  }

  private readOnlyRound(key: string): Promise<KvResult> {
    const tag = this.readTags.next();
    const request: GatewayRequest = { clientId: tag.clientId, seq: tag.seq, operation: { op: 'get', key }, origin: this.port.self };
    return this.track(request, 2 * this.port.f + 1, true, this.limits.readOnlyTimeoutMs, null);
  }

  private track(request: GatewayRequest, needed: number, readOnly: boolean, timeoutMs: number, lane: Lane | null): Promise<KvResult> {
    const key = tagKey(request.clientId, request.seq);
    return new Promise<KvResult>((resolve, reject) => {
      const existing = this.pending.get(key);
      if (existing !== undefined) {
        existing.waiters.push({ resolve, reject }); // the same client retried while its request is in flight
        return;
      }
      const now = Date.now();
      const p: Pending = {
        request,
        quorum: new ResultQuorum(this.port.n, this.port.f, needed),
        waiters: [{ resolve, reject }],
        deadlineMs: now + timeoutMs,
        readOnly,
        nextSendMs: now + this.limits.retransmitMs,
        sends: 1,
        lane,
      };
      this.pending.set(key, p);
      if (readOnly) this.port.readOnly(request);
      else this.port.submit(request, () => this.refused(key, p));
    });
  }

  private offer(key: string, p: Pending, from: number, result: KvResult): void {
    const accepted = p.quorum.add(from, result);
    if (accepted !== null) this.finish(key, p, accepted);
  }

  private finish(key: string, p: Pending, outcome: KvResult | Error): void {
    if (this.pending.get(key) !== p) return;
    this.pending.delete(key);
    // A lane is reused only once its request is settled; an unknown outcome retires it (client-lanes.ts).
    if (p.lane !== null && !isTimeout(outcome)) this.lanes.release(p.lane);
    for (const w of p.waiters) {
      if (outcome instanceof Error) w.reject(outcome);
      else w.resolve(outcome);
    }
  }

  private expire(key: string, p: Pending): void {
    if (p.readOnly) return this.finish(key, p, new ReadOnlyFailed());
    this.stats.timeouts++;
    this.finish(key, p, timeout('the request'));
  }

  private refused(key: string, p: Pending): void {
    this.stats.overloaded++;
    this.finish(key, p, overloaded());
  }

  /** §4.1: a client that gets no reply in time resends its request (after a view change, say). */
  private resend(p: Pending, nowMs: number): void {
    p.sends++;
    this.stats.resends++;
    p.nextSendMs = nowMs + this.limits.retransmitMs * 2 ** Math.min(p.sends - 1, 4);
    // A full core refusing the copy changes nothing: the first copy was accepted.
    this.port.submit(p.request, () => undefined);
  }
}

function isTimeout(outcome: unknown): boolean {
  return outcome instanceof ServiceError && outcome.code === 'TIMEOUT';
}

function valueOf(result: KvResult): string | null {
  if (result.kind !== 'get') throw new ServiceError('INTERNAL', `a read returned a ${result.kind} result`);
  return result.value;
}
