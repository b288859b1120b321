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
  /**
   * Soak mode (bench/README.md): also count completed requests in windows of this many
   * seconds, by completion time, and report each window as it closes. null: one total only.
   */
  windowS: number | null;
}

/** Requests completed in one window of a soak round (by the load generator's clock). */
export interface LoadWindow {
  index: number;
  /** Responses with a 2xx status. */
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts (autocannon's `reqError`). */
  errors: number;
  /** Of the 2xx responses in the window; zeros when there were none. */
  latencyMs: { p50: number; p99: number; max: number };
}

/** What the load generator says while a soak round runs: a window just closed (no percentiles yet). */
export interface WindowProgress {
  kind: 'window';
  index: number;
  ok: number;
  non2xx: number;
  errors: number;
}

/** What the preload says every few seconds. */
export interface PreloadProgress {
  kind: 'preload';
  written: number;
  keys: number;
  ms: number;
}

export type WorkerProgress = WindowProgress | PreloadProgress;

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
  /** Epoch ms when the round started (the soak's windows count from here). */
  startMs: number;
  /** The complete windows of a soak round (a trailing partial window is left out); null outside soak mode. */
  windows: LoadWindow[] | null;
}

export interface PreloadSpec {
  /** Writes are spread over these (round robin per writer); followers forward to the leader. */
  urls: string[];
  dialect: Dialect;
  keys: number;
  valueBytes: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Keys per request where the dialect can batch them (etcd: puts in one txn); 1 otherwise. */
  batch: number;
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

export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { id: number; progress: WorkerProgress };
