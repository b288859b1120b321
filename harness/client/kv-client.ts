/**
 * A small client for the HTTP key-value API (docs/design.md §4), used by tests, the chaos workload
 * and examples. Each call returns the HTTP status and parsed body; it never throws on a 4xx/5xx.
 */
export interface KvResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface CallOptions {
  timeoutMs?: number;
  clientId?: string;
  seq?: number;
  /** Extra headers, e.g. an admin call's Authorization (nodes/http/admin-auth.ts). */
  headers?: Record<string, string>;
}

export async function call(baseUrl: string, method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<KvResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.clientId !== undefined && opts.seq !== undefined) {
    headers['x-client-id'] = opts.clientId;
    headers['x-request-seq'] = String(opts.seq);
  }
  const res = await fetch(baseUrl + path, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

const keyPath = (key: string) => `/kv/${encodeURIComponent(key)}`;

export const kv = {
  put: (url: string, key: string, value: string, opts?: CallOptions) => call(url, 'PUT', keyPath(key), { value }, opts),
  get: (url: string, key: string, consistency: 'linearizable' | 'stale' = 'linearizable', opts?: CallOptions) =>
    call(url, 'GET', `${keyPath(key)}?consistency=${consistency}`, undefined, opts),
  del: (url: string, key: string, opts?: CallOptions) => call(url, 'DELETE', keyPath(key), undefined, opts),
  cas: (url: string, key: string, expected: string | null, value: string, opts?: CallOptions) =>
    call(url, 'POST', `${keyPath(key)}/cas`, { expected, value }, opts),
};

/** Retry `fn` until `ok` accepts its result or the deadline passes (timing-tolerant tests). */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not reached in ${timeoutMs} ms; last: ${JSON.stringify(last) ?? String(lastErr)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
