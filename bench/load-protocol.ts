/**
 * The messages between the benchmark runner and its load-generator child process
 * (bench/load-worker.ts): one JSON object a line, on the child's stdin and stdout.
 */
import type { Distribution } from './keyspace.js';
import type { LatencySummary } from './latency-samples.js';
import type { Dialect, Workload } from './requests.js';

export interface RunSpec {
  urls: string[];
  dialect: Dialect;
  workload: Workload;
  readRatio: number;
  connections: number;
  durationS: number;
  valueBytes: number;
  keys: number;
  distribution: Distribution;
  /** Fixed overall request rate (autocannon overallRate), or null for as fast as it goes. */
  rate: number | null;
  timeoutS: number;
}

export interface RunResult {
  durationS: number;
  /** Responses with a 2xx status. */
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyMs: LatencySummary;
  /** `samples`: our sub-millisecond samples of 2xx responses; `autocannon`: its coordinated-omission-corrected whole-ms histogram (fixed-rate runs). */
  latencySource: 'samples' | 'autocannon';
}

export interface PreloadSpec {
  url: string;
  dialect: Dialect;
  keys: number;
  valueBytes: number;
  concurrency: number;
}

export interface PreloadResult {
  written: number;
  ms: number;
}

export interface FailoverLoadSpec {
  urls: string[];
  dialect: Dialect;
  ratePerS: number;
  durationS: number;
  valueBytes: number;
  keys: number;
  timeoutMs: number;
  maxInflight: number;
}

/** One write: [invoke epoch ms, completion epoch ms, HTTP status or 0 for a network error, -1 when not sent (too many in flight)]. */
export type FailoverOp = [number, number, number];

export interface FailoverLoadResult {
  startMs: number;
  endMs: number;
  ops: FailoverOp[];
}

export type WorkerRequest =
  | { id: number; cmd: 'run'; spec: RunSpec }
  | { id: number; cmd: 'preload'; spec: PreloadSpec }
  | { id: number; cmd: 'failover'; spec: FailoverLoadSpec };

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
