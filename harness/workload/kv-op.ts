/**
 * One client operation over the HTTP API (docs/design.md §4.2) and what its outcome means for the
 * history (§6.3): `ok` it happened, `fail` it certainly did not, `info` unknown.
 *
 * - any 200 → ok; 404 KEY_NOT_FOUND on a read → ok with value null;
 * - 409 CAS_MISMATCH, 400, 404 otherwise, 413, 429 OVERLOADED, 503 NO_LEADER → fail (the
 *   replica refused before proposing; see nodes/raft/raft-replica.ts and nodes/http/forward.ts);
 * - connection refused → fail (nothing was sent);
 * - timeout, 504, 500, connection reset, anything else → info.
 */
import type { OpF, OpType, OpValue } from '../chaos/history.js';

export interface KvOp {
  f: OpF;
  key: string;
  /** write: the value; cas: [expected, new]; read/delete: null. */
  value: OpValue;
}

export interface KvOutcome {
  type: Exclude<OpType, 'invoke'>;
  /** An ok read's value (null when absent); otherwise the invoke's value. */
  value: OpValue;
  /** HTTP status, error code or network error, for diagnostics. */
  error?: string;
}

/** `?consistency=` of a read (README, the HTTP API): ReadIndex, Raft's leader lease, or local state. */
export const readConsistencies = ['linearizable', 'lease', 'stale'] as const;
export type ReadConsistency = (typeof readConsistencies)[number];

export interface RequestOptions {
  timeoutMs: number;
  /** Reads only; linearizable when absent. */
  consistency?: ReadConsistency;
  clientId?: string;
  seq?: number;
}

export async function performOp(baseUrl: string, op: KvOp, opts: RequestOptions): Promise<KvOutcome> {
  const path = `/kv/${encodeURIComponent(op.key)}`;
  let method: string;
  let url: string;
  let body: unknown;
  switch (op.f) {
    case 'read':
      method = 'GET';
      url = `${path}?consistency=${opts.consistency ?? 'linearizable'}`;
      break;
    case 'write':
      method = 'PUT';
      url = path;
      body = { value: op.value };
      break;
    case 'cas': {
      const [expected, next] = op.value as [string | null, string];
      method = 'POST';
      url = `${path}/cas`;
      body = { expected, value: next };
      break;
    }
    case 'delete':
      method = 'DELETE';
      url = path;
      break;
  }
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.clientId !== undefined && opts.seq !== undefined) {
    headers['x-client-id'] = opts.clientId;
    headers['x-request-seq'] = String(opts.seq);
  }
  let status: number;
  let parsed: Record<string, unknown> = {};
  try {
    const res = await fetch(baseUrl + url, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    status = res.status;
    const text = await res.text();
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = {};
    }
  } catch (err) {
    return { type: networkOutcome(err), value: op.value, error: errorName(err) };
  }
  return classify(op, status, parsed);
}

export function classify(op: KvOp, status: number, body: Record<string, unknown>): KvOutcome {
  const code = (body['error'] as { code?: unknown } | undefined)?.code;
  const error = `${status}${typeof code === 'string' ? ' ' + code : ''}`;
  if (status === 200) {
    if (op.f === 'read') {
      const v = body['value'];
      return { type: 'ok', value: typeof v === 'string' ? v : null };
    }
    return { type: 'ok', value: op.value };
  }
  if (status === 404 && op.f === 'read' && code === 'KEY_NOT_FOUND') return { type: 'ok', value: null };
  if ([400, 404, 409, 413, 429, 503].includes(status)) return { type: 'fail', value: op.value, error };
  return { type: 'info', value: op.value, error };
}

/** A connection refused before anything was sent certainly did not happen. */
function networkOutcome(err: unknown): 'fail' | 'info' {
  return errorCode(err) === 'ECONNREFUSED' ? 'fail' : 'info';
}

function errorCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  const inner = cause?.errors?.[0]?.code;
  return typeof inner === 'string' ? inner : undefined;
}

function errorName(err: unknown): string {
  const name = (err as { name?: unknown }).name;
  if (name === 'TimeoutError') return 'timeout';
  return errorCode(err) ?? (err as Error).message ?? String(err);
}
