/**
 * Client requests at one PBFT replica (OSDI §4.1) and the request timer (OSDI §4.4): the requests
 * it waits to see executed, relayed to the primary (the primary orders them, normal-case.ts),
 * retransmitted as a client would, and answered from the sessions when already executed. Also
 * the Replies of the other replicas for requests whose origin is this replica.
 */
import type { KvResult } from '../../kv/commands.js';
import { NO_AUTH } from '../auth.js';
import type { ClientRequest, Reply, RequestMessage } from '../types.js';
import type { ReplicaContext } from './context.js';
import type { ReplicaParts } from './parts.js';

export const requestKey = (r: { clientId: string; seq: number }): string => `${r.clientId}\u0000${r.seq}`;
/** At most this many waiting requests are relayed or resent at once. */
export const RESEND_CAP = 64;

interface Waiting {
  request: ClientRequest;
  since: number;
  multicast: boolean;
}

export class ClientRequests {
  /** Requests this replica waits to see executed, oldest first (bounded by maxPendingRequests). */
  private readonly waiting = new Map<string, Waiting>();
  /** The oldest waiting request when the timer last (re)started. */
  private oldestWaiting: string | null = null;

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly parts: ReplicaParts,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  /** The waiting requests, oldest first. */
  *requests(): IterableIterator<ClientRequest> {
    for (const w of this.waiting.values()) yield w.request;
  }

  /** OSDI §4.1: a request arrives at this replica (gateway or library client). */
  submit(request: ClientRequest): 'accepted' | 'overloaded' {
    const { ctx, parts } = this;
    const cached = this.cachedResult(request);
    if (cached !== null) {
      // Already executed: our own reply again, and the others are asked to resend theirs.
      ctx.out.executed.push({ request, result: cached, sequence: parts.normal.lastExecuted });
      if (request.origin === ctx.self) ctx.out.sendTo(ctx.others, { type: 'Request', request, replica: ctx.self, auth: NO_AUTH });
      return 'accepted';
    }
    const key = requestKey(request);
    if (!this.waiting.has(key)) {
      if (this.waiting.size >= ctx.maxPending) return 'overloaded';
      this.waiting.set(key, { request, since: ctx.ticks, multicast: false });
    }
    this.startRequestTimer();
    if (parts.views.isPrimary && !parts.views.changing) parts.normal.enqueue(request);
    else if (!parts.views.changing) ctx.out.sendTo([parts.views.primary], { type: 'Request', request, replica: ctx.self, auth: NO_AUTH });
    return 'accepted';
  }

  /** A relayed request: remember it, start the timer, and pass it to the primary (OSDI §4.4). */
  onRequest(m: RequestMessage): void {
    const { ctx, parts } = this;
    const key = requestKey(m.request);
    const cached = this.cachedResult(m.request);
    if (cached !== null) {
      // OSDI §4.1: a retransmitted request that was executed gets the reply again.
      const origin = m.request.origin;
      if (origin === m.replica) ctx.out.sendTo([origin], { type: 'Reply', view: parts.views.view, replies: [{ clientId: m.request.clientId, seq: m.request.seq, result: cached }], replica: ctx.self, auth: NO_AUTH });
      return;
    }
    if (this.waiting.has(key)) return; // relayed before; our own retransmission takes care of it
    if (this.waiting.size >= ctx.maxPending) return;
    this.waiting.set(key, { request: m.request, since: ctx.ticks, multicast: true });
    this.startRequestTimer();
    if (parts.views.changing) return;
    if (parts.views.isPrimary) parts.normal.enqueue(m.request);
    else if (m.replica !== parts.views.primary) ctx.out.sendTo([parts.views.primary], { ...m, replica: ctx.self });
  }

  /** The result of an executed request (session duplicate), or null if it is new. */
  cachedResult(request: ClientRequest): KvResult | null {
    const seen = this.ctx.state.lookup({ clientId: request.clientId, seq: request.seq });
    if (seen.kind === 'duplicate') return seen.result;
    if (seen.kind === 'expired') return { kind: 'session-expired' };
    return null;
  }

  /** A (batched) Reply: each entry is one replica's vote for one request (OSDI §4.1). */
  onReply(m: Reply): void {
    for (const e of m.replies) this.ctx.out.replies.push({ from: m.replica, clientId: e.clientId, seq: e.seq, result: e.result, view: m.view });
  }

  /** The request with this key executed: no longer waited for. */
  executed(key: string): void {
    this.waiting.delete(key);
  }

  /** After a state transfer: the requests the installed state already executed. */
  forgetExecuted(): void {
    for (const [key, w] of this.waiting) if (this.cachedResult(w.request) !== null) this.waiting.delete(key);
  }

  /** OSDI §4.4: a backup waiting for a request starts its timer if it is not running. */
  startRequestTimer(): void {
    const timer = this.parts.views.timer;
    if (this.parts.views.changing || this.waiting.size === 0) return;
    if (!timer.running) {
      const oldest = this.waiting.keys().next();
      this.oldestWaiting = oldest.done === true ? null : oldest.value;
    }
    timer.startIfStopped();
  }

  /**
   * OSDI §4.4: the timer stops when the replica waits for no request and restarts when it
   * still waits; it restarts only when the oldest waiting request executed, so a primary that
   * orders other requests cannot starve one forever.
   */
  restartTimerOnProgress(): void {
    const timer = this.parts.views.timer;
    if (this.parts.views.changing) return;
    const oldest = this.waiting.keys().next();
    const key = oldest.done === true ? null : oldest.value;
    if (key === this.oldestWaiting) return;
    this.oldestWaiting = key;
    timer.progress(); // OSDI §4.5.2: a new request executed in this view resets the backoff
    if (key === null) timer.stop();
    else timer.start();
  }

  /** A backup in a new view passes what it waits for to the new primary (at most `cap`). */
  relayWaiting(cap: number): void {
    let sent = 0;
    const primary = this.parts.views.primary;
    for (const w of this.waiting.values()) {
      if (sent++ >= cap) return;
      this.ctx.out.sendTo([primary], { type: 'Request', request: w.request, replica: this.ctx.self, auth: NO_AUTH });
    }
  }

  /** The client's retransmission (OSDI §4.1), done by the replica holding the request. */
  resendRequests(): void {
    const { ctx, parts } = this;
    if (parts.views.isPrimary && !parts.views.changing) {
      for (const w of this.waiting.values()) parts.normal.enqueue(w.request);
      return;
    }
    let sent = 0;
    for (const w of this.waiting.values()) {
      if (ctx.ticks - w.since < ctx.retransmitTicks) continue;
      if (sent++ >= RESEND_CAP) return;
      const m: RequestMessage = { type: 'Request', request: w.request, replica: ctx.self, auth: NO_AUTH };
      // After a while, multicast it so every backup relays it and starts its timer (OSDI §4.1).
      // In a view change this replica cannot order anything: let the others relay it.
      const late = (ctx.ticks - w.since >= 2 * ctx.retransmitTicks && !w.multicast) || parts.views.changing;
      if (late) w.multicast = true;
      ctx.out.sendTo(late ? ctx.others : [parts.views.primary], m);
    }
  }
}
