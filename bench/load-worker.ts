/**
 * The load generator, in its own process (`node --import tsx bench/load-worker.ts`), so that
 * the runner's own work (polling /metrics, reading /proc, managing clusters) never steals time
 * from the event loop that sends requests and times responses, and so that the load
 * generator's CPU use can be measured on its own (/proc/<pid>/stat). Commands arrive as JSON
 * lines on stdin; answers go out as JSON lines on stdout (see load-protocol.ts).
 */
import autocannon from 'autocannon';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { httpCall } from './http-call.js';
import { keyChooser } from './keyspace.js';
import { LatencySamples } from './latency-samples.js';
import type {
  FailoverLoadResult,
  FailoverLoadSpec,
  FailoverOp,
  PreloadResult,
  PreloadSpec,
  RunResult,
  RunSpec,
  WorkerProgress,
  WorkerReply,
  WorkerRequest,
} from './load-protocol.js';
import { LoadWindows, reportWindows } from './load-windows.js';
import { batchPutRequest, pickOp, RequestCache, type HttpRequestSpec } from './requests.js';

type Progress = (p: WorkerProgress) => void;

/** One autocannon round (a warm-up round is just a round whose result the runner drops). */
export async function runLoad(spec: RunSpec, progress: Progress = () => undefined): Promise<RunResult> {
  const durationS = spec.durationS;
  const cache = new RequestCache(spec.dialect, spec.valueBytes);
  const chooser = keyChooser(spec.distribution, spec.keys);
  const samples = new LatencySamples();
  const startMs = Date.now();
  const startedAt = performance.now();
  const windows = spec.windowS === null ? null : new LoadWindows(startedAt, spec.windowS * 1000, Math.floor(durationS / spec.windowS + 1e-9));
  const stopReporting = windows === null ? (_flush: boolean) => undefined : reportWindows(windows, startedAt, spec.windowS! * 1000, progress);
  const instance = autocannon({
    url: spec.urls.length === 1 ? spec.urls[0]! : spec.urls,
    connections: spec.connections,
    duration: durationS,
    timeout: spec.timeoutS,
    ...(spec.rate === null ? {} : { overallRate: spec.rate }),
    requests: [
      {
        // Called before every request: a fresh key from the distribution each time.
        setupRequest: (req) => {
          const r = cache.get(pickOp(spec.workload, spec.readRatio), chooser.next());
          req.method = r.method;
          req.path = r.path;
          // A fresh headers object each time: autocannon writes Content-Length into it.
          if (r.body === null) {
            req.headers = {};
            delete req.body;
          } else {
            req.headers = { 'content-type': 'application/json' };
            req.body = r.body;
          }
          return req;
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) samples.add(ms);
    windows?.response(performance.now(), status, ms);
  });
  // Emitted for connection errors and timeouts alike (autocannon lib/run.js).
  if (windows !== null) instance.on('reqError', () => windows.error(performance.now()));
  const result = await instance.then((r) => r, (err: unknown) => {
    stopReporting(false);
    throw err;
  });
  stopReporting(true);
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = Number(count);
  const fixedRate = spec.rate !== null;
  return {
    durationS: result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latencyMs: fixedRate
      ? { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average }
      : samples.summary(),
    latencySource: fixedRate ? 'autocannon' : 'samples',
    startMs,
    windows: windows?.result() ?? null,
  };
}

/**
 * Write every key once (reads need something to read; a soak starts with its whole key space
 * in the state machine). `concurrency` writers share a key counter, writer j sending to
 * urls[j mod n], so the HTTP work spreads over every replica when the runner passes them all;
 * where the dialect can carry several keys in one request (etcd: a txn of puts) each writer
 * takes `batch` keys at a time. A failed request is retried (a leader change, a full queue):
 * putting the same value twice is harmless.
 */
export async function preload(spec: PreloadSpec, progress: Progress = () => undefined): Promise<PreloadResult> {
  const started = Date.now();
  const cache = new RequestCache(spec.dialect, spec.valueBytes);
  const batch = spec.dialect === 'etcd' ? Math.max(1, spec.batch) : 1;
  let next = 0;
  let written = 0;
  const ticker = setInterval(() => progress({ kind: 'preload', written, keys: spec.keys, ms: Date.now() - started }), 5000);
  const request = (first: number, count: number): HttpRequestSpec =>
    count === 1 ? cache.build('put', first) : batchPutRequest(Array.from({ length: count }, (_, i) => first + i), cache.value);
  const writer = async (j: number): Promise<void> => {
    const url = spec.urls[j % spec.urls.length]!;
    while (next < spec.keys) {
      const first = next;
      const count = Math.min(batch, spec.keys - first);
      next += count;
      await sendWithRetries(url, request(first, count), `keys ${first}..${first + count - 1}`);
      written += count;
    }
  };
  try {
    const writers = Math.max(1, Math.min(spec.concurrency, Math.ceil(spec.keys / batch)));
    await Promise.all(Array.from({ length: writers }, (_, j) => writer(j)));
  } finally {
    clearInterval(ticker);
  }
  return { written, ms: Date.now() - started };
}

async function sendWithRetries(url: string, r: HttpRequestSpec, what: string): Promise<void> {
  let lastError = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const status = await httpCall(url, r.method, r.path, r.body, 10_000);
      if (status >= 200 && status < 300) return;
      lastError = `HTTP ${status}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`preload of ${what} via ${url} failed: ${lastError}`);
}

/**
 * Open-loop writes at a constant rate, round robin over all replicas (a request to a dead
 * replica fails fast instead of stalling a connection, as it would in autocannon).
 */
export async function failoverLoad(spec: FailoverLoadSpec): Promise<FailoverLoadResult> {
  const cache = new RequestCache(spec.dialect, spec.valueBytes);
  const chooser = keyChooser('uniform', spec.keys);
  const ops: FailoverOp[] = [];
  const pending = new Set<Promise<void>>();
  const startMs = Date.now();
  const endMs = startMs + spec.durationS * 1000;
  const intervalMs = 1000 / spec.ratePerS;
  for (let i = 0; ; i++) {
    const due = startMs + i * intervalMs;
    if (due >= endMs) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const invoked = Date.now();
    if (pending.size >= spec.maxInflight) {
      ops.push([invoked, invoked, -1]);
      continue;
    }
    const url = spec.urls[i % spec.urls.length]!;
    const r = cache.get('put', chooser.next());
    const p = httpCall(url, r.method, r.path, r.body, spec.timeoutMs)
      .then((status) => {
        ops.push([invoked, Date.now(), status]);
      })
      .catch(() => {
        ops.push([invoked, Date.now(), 0]);
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  ops.sort((a, b) => a[0] - b[0]);
  return { startMs, endMs, ops };
}

async function handle(req: WorkerRequest, progress: Progress): Promise<unknown> {
  switch (req.cmd) {
    case 'run':
      return runLoad(req.spec, progress);
    case 'preload':
      return preload(req.spec, progress);
    case 'failover':
      return failoverLoad(req.spec);
  }
}

function serve(): void {
  const reply = (r: WorkerReply): void => {
    process.stdout.write(JSON.stringify(r) + '\n');
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    const req = JSON.parse(line) as WorkerRequest;
    handle(req, (progress) => reply({ id: req.id, progress })).then(
      (result) => reply({ id: req.id, ok: true, result }),
      (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
  // The runner closing our stdin (or dying) ends us.
  lines.on('close', () => process.exit(0));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) serve();
