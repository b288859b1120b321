/**
 * The HTTP request for one operation, in the dialect of the system under test: our key-value API
 * (docs/design.md §4.1; the `hello` baseline answers anything, so it gets the same requests) or etcd's
 * v3 JSON gateway (base64 keys and values).
 */
import { keyName, valueOf } from './keyspace.js';

export type Dialect = 'kv' | 'etcd';
export type Op = 'put' | 'get' | 'get-stale' | 'cas';
export const workloads = ['put', 'get', 'get-stale', 'mixed', 'cas'] as const;
export type Workload = (typeof workloads)[number];

export interface HttpRequestSpec {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  /** JSON text, or absent for a bodiless GET. */
  body: string | null;
}

/** Workloads whose requests read keys, so the keys are written before the run. */
export function needsPreload(workload: Workload): boolean {
  return workload !== 'put';
}

/** The operation of the next request of a workload. */
export function pickOp(workload: Workload, readRatio: number, random: () => number = Math.random): Op {
  switch (workload) {
    case 'put':
    case 'get':
    case 'get-stale':
    case 'cas':
      return workload;
    case 'mixed':
      return random() < readRatio ? 'get' : 'put';
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/**
 * The CAS workload swaps the preloaded value for itself: every CAS succeeds and still goes
 * through the log (a read-compare-write command), so its cost is comparable to a put's.
 */
export function buildRequest(dialect: Dialect, op: Op, key: string, value: string): HttpRequestSpec {
  if (dialect === 'kv') {
    const path = `/kv/${encodeURIComponent(key)}`;
    switch (op) {
      case 'put':
        return { method: 'PUT', path, body: JSON.stringify({ value }) };
      case 'get':
        return { method: 'GET', path: `${path}?consistency=linearizable`, body: null };
      case 'get-stale':
        return { method: 'GET', path: `${path}?consistency=stale`, body: null };
      case 'cas':
        return { method: 'POST', path: `${path}/cas`, body: JSON.stringify({ expected: value, value }) };
    }
  }
  const k = b64(key);
  const v = b64(value);
  switch (op) {
    case 'put':
      return { method: 'POST', path: '/v3/kv/put', body: JSON.stringify({ key: k, value: v }) };
    case 'get':
      return { method: 'POST', path: '/v3/kv/range', body: JSON.stringify({ key: k }) };
    case 'get-stale':
      return { method: 'POST', path: '/v3/kv/range', body: JSON.stringify({ key: k, serializable: true }) };
    case 'cas':
      return {
        method: 'POST',
        path: '/v3/kv/txn',
        body: JSON.stringify({
          compare: [{ key: k, target: 'VALUE', result: 'EQUAL', value: v }],
          success: [{ requestPut: { key: k, value: v } }],
        }),
      };
  }
}

/**
 * Several puts in one request, where the dialect has a way (etcd: a txn without compares runs
 * its `success` operations, at most `--max-txn-ops`, 128 by default). The preload uses it; our
 * API has no multi-key write, so there every key is one PUT.
 */
export function batchPutRequest(keyIndexes: number[], value: string): HttpRequestSpec {
  const v = b64(value);
  return {
    method: 'POST',
    path: '/v3/kv/txn',
    body: JSON.stringify({ success: keyIndexes.map((i) => ({ requestPut: { key: b64(keyName(i)), value: v } })) }),
  };
}

/** etcd's default `--max-txn-ops`: the most puts one preload txn may carry. */
export const etcdMaxTxnOps = 128;

/**
 * Requests are built once per (op, key) and reused: the load generator shares two cores with
 * the cluster, so it should spend them on sending, not on JSON and base64. Only the first
 * `cachedKeys` keys are kept: a soak over a million keys would otherwise hold about 400 MB of
 * requests in the load generator, whose garbage collector would then pause it for long enough
 * to look like the server's latency. Keys beyond are built per request (about a microsecond).
 */
export const cachedKeys = 1 << 17;

export class RequestCache {
  private readonly cache = new Map<Op, (HttpRequestSpec | undefined)[]>();
  readonly value: string;

  constructor(
    readonly dialect: Dialect,
    valueBytes: number,
  ) {
    this.value = valueOf(valueBytes);
  }

  /** A fresh request, not cached (the preload writes each key once). */
  build(op: Op, keyIndex: number): HttpRequestSpec {
    return buildRequest(this.dialect, op, keyName(keyIndex), this.value);
  }

  get(op: Op, keyIndex: number): HttpRequestSpec {
    if (keyIndex >= cachedKeys) return this.build(op, keyIndex);
    let byKey = this.cache.get(op);
    if (byKey === undefined) {
      byKey = [];
      this.cache.set(op, byKey);
    }
    let req = byKey[keyIndex];
    if (req === undefined) {
      req = this.build(op, keyIndex);
      byKey[keyIndex] = req;
    }
    return req;
  }
}
