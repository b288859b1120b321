import { randomBytes } from 'node:crypto';
import type { KvOperation, KvResult } from '../../protocols/kv/commands.js';
import { isKvResult } from './message-guard.js';
import { faultsTolerated } from './pbft-config.js';
import { ResultQuorum } from './result-quorum.js';

export interface PbftClientOptions {
  /** Every replica's HTTP base URL, in the cluster file's order (replica i = URL i). */
  replicas: string[];
  /** This client's PBFT id (c); random when absent. Requests are numbered from `firstSeq`. */
  clientId?: string;
  firstSeq?: number;
  /** Give up on an ordered request after this long (TIMEOUT: its outcome is unknown). */
  timeoutMs?: number;
  /** Wait this long for 2f+1 matching read-only answers before ordering the read. */
  readOnlyTimeoutMs?: number;
  /** One HTTP attempt's timeout; a replica that did not answer is asked again (same c, t). */
  attemptTimeoutMs?: number;
  retryDelayMs?: number;
}

export class PbftClientError extends Error {
  override name = 'PbftClientError';
  constructor(
    readonly code: 'TIMEOUT' | 'BAD_REQUEST',
    message: string,
  ) {
    super(message);
  }
}

interface Round {
  path: string;
  body: unknown;
  needed: number;
  deadlineMs: number;
  /** Ask a replica again after a failed attempt (ordered requests); read-only rounds ask once. */
  retry: boolean;
}

/**
 * A PBFT client that talks to the replicas directly (OSDI §4.1), instead of trusting one replica's
 * HTTP gateway: it sends each request to every replica and accepts a result only when f+1
 * distinct replicas return matching results, so at least one correct replica vouches for it. A
 * read first tries the read-only optimisation (§5.1.3: 2f+1 matching answers from the replicas'
 * current states) and orders a `get` when those do not agree in time. A request that gets no
 * quorum is resent with the same (clientId, seq), which the replicas answer from their reply
 * cache rather than executing it twice. The acceptance rule is the core's ReplyQuorum, the same
 * one every replica's HTTP gateway uses.
 *
 * Trust: the client trusts that URL i reaches replica i (plain HTTP here; use TLS across machines).
 * One request at a time per client, as in the paper.
 */
export class PbftClient {
  readonly n: number;
  readonly f: number;
  readonly clientId: string;
  private seq: number;
  private readonly timeoutMs: number;
  private readonly readOnlyTimeoutMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly retryDelayMs: number;

  constructor(private readonly opts: PbftClientOptions) {
    this.n = opts.replicas.length;
    if (this.n < 4) throw new Error('a PBFT cluster has at least 4 replicas');
    this.f = faultsTolerated(this.n);
    this.clientId = opts.clientId ?? `client-${randomBytes(8).toString('hex')}`;
    this.seq = (opts.firstSeq ?? 1) - 1;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.readOnlyTimeoutMs = opts.readOnlyTimeoutMs ?? 1000;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 5000;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
  }

  async put(key: string, value: string): Promise<void> {
    await this.execute({ op: 'put', key, value });
  }

  /** True when the key existed. */
  async delete(key: string): Promise<boolean> {
    const r = await this.execute({ op: 'delete', key });
    return r.kind === 'delete' && r.existed;
  }

  /** `expected: null` means "only if absent". The current value when it did not match. */
  async cas(key: string, expected: string | null, value: string): Promise<{ ok: true } | { ok: false; current: string | null }> {
    const r = await this.execute({ op: 'cas', key, expected, value });
    if (r.kind !== 'cas') throw new PbftClientError('BAD_REQUEST', `unexpected ${r.kind} result`);
    return r.ok ? { ok: true } : { ok: false, current: r.current };
  }

  /** A linearizable read: read-only optimisation first, the ordered path when it does not agree. */
  async get(key: string): Promise<string | null> {
    const readOnly = await this.readOnly(key).catch(() => null);
    const result = readOnly ?? (await this.execute({ op: 'get', key }));
    return result.kind === 'get' ? result.value : null;
  }

  /** One ordered request, accepted on f+1 matching results. */
  async execute(operation: KvOperation): Promise<KvResult> {
    const seq = ++this.seq;
    const body = { clientId: this.clientId, seq, operation };
    const result = await this.gather({ path: '/pbft/request', body, needed: this.f + 1, deadlineMs: Date.now() + this.timeoutMs, retry: true });
    // The replicated session no longer remembers this (clientId, seq): it may or may not have run.
    if (result.kind === 'session-expired') throw new PbftClientError('TIMEOUT', `request ${seq} of ${this.clientId} is older than the session window; its outcome is unknown`);
    return result;
  }

  /** The read-only optimisation alone: 2f+1 matching answers, or null. */
  async readOnly(key: string): Promise<KvResult | null> {
    const seq = ++this.seq;
    const body = { clientId: this.clientId, seq, key };
    const round = { path: '/pbft/read', body, needed: 2 * this.f + 1, deadlineMs: Date.now() + this.readOnlyTimeoutMs, retry: false };
    return this.gather(round).catch(() => null);
  }

  private gather(round: Round): Promise<KvResult> {
    const quorum = new ResultQuorum(this.n, this.f, round.needed);
    const abort = new AbortController();
    return new Promise<KvResult>((resolve, reject) => {
      let open = this.n;
      let settled = false;
      const done = (outcome: KvResult | PbftClientError): void => {
        if (settled) return;
        settled = true;
        abort.abort();
        if (outcome instanceof PbftClientError) reject(outcome);
        else resolve(outcome);
      };
      const answered = (i: number, result: KvResult | null): void => {
        const accepted = result === null ? null : quorum.add(i, result);
        if (accepted !== null) return done(accepted);
        if (quorum.hopeless()) return done(new PbftClientError('TIMEOUT', 'the replicas disagree; no result has enough matching replies'));
        if (--open === 0) done(new PbftClientError('TIMEOUT', `no ${round.needed} matching replies in time; the outcome is unknown`));
      };
      this.opts.replicas.forEach((url, i) => {
        void this.ask(url, round, abort.signal).then((r) => answered(i, r));
      });
    });
  }

  /** One replica's answer, asking again after failures until the round's deadline; null if none. */
  private async ask(url: string, round: Round, signal: AbortSignal): Promise<KvResult | null> {
    while (!signal.aborted && Date.now() < round.deadlineMs) {
      const left = Math.min(this.attemptTimeoutMs, round.deadlineMs - Date.now());
      const attempt = attemptSignal(signal, Math.max(1, left));
      const result = await postForResult(url + round.path, round.body, attempt.signal).finally(attempt.dispose);
      if (result !== 'retry') return result;
      if (!round.retry) return null;
      await new Promise((r) => setTimeout(r, this.retryDelayMs));
    }
    return null;
  }
}

/**
 * A signal that aborts after `ms` or with `parent`. Not `AbortSignal.any([parent,
 * AbortSignal.timeout(ms)])`: in Node 20 the timeout signal inside it can be garbage-collected
 * before it fires, and the request then never times out (nodejs/node#57736; CI once hung here
 * for 5 minutes). A timer of our own, cleared by `dispose`, cannot be collected.
 */
function attemptSignal(parent: AbortSignal, ms: number): { signal: AbortSignal; dispose: () => void } {
  const attempt = new AbortController();
  const abort = (): void => attempt.abort(parent.reason);
  const timer = setTimeout(() => attempt.abort(new DOMException('attempt timed out', 'TimeoutError')), ms);
  if (parent.aborted) abort();
  else parent.addEventListener('abort', abort, { once: true });
  return {
    signal: attempt.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', abort);
    },
  };
}

/** A replica's result, 'retry' for a failure worth asking again, null for a definite refusal. */
async function postForResult(url: string, body: unknown, signal: AbortSignal): Promise<KvResult | 'retry' | null> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
    const parsed = (await res.json().catch(() => null)) as { result?: unknown } | null;
    if (res.ok && isKvResult(parsed?.result)) return parsed!.result as KvResult;
    return res.status >= 400 && res.status < 500 && res.status !== 429 ? null : 'retry';
  } catch {
    return 'retry';
  }
}
