/**
 * The load generator, in its own process (`node --import tsx bench/load-worker.ts`), so that
 * the runner's own work (polling /metrics, reading /proc, managing clusters) never steals time
 * from the event loop that sends requests and times responses, and so that the load
 * generator's CPU use can be measured on its own (/proc/<pid>/stat). Commands arrive as JSON
 * lines on stdin; answers go out as JSON lines on stdout (see load-protocol.ts).
 */
import autocannon from 'autocannon';
import { resolve } from 'node:path';
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
  WorkerReply,
  WorkerRequest,
} from './load-protocol.js';
import { pickOp, RequestCache } from './requests.js';

/** One autocannon round (a warm-up round is just a round whose result the runner drops). */
export async function runLoad(spec: RunSpec): Promise<RunResult> {
  const durationS = spec.durationS;
  const cache = new RequestCache(spec.dialect, spec.valueBytes);
  const chooser = keyChooser(spec.distribution, spec.keys);
  const samples = new LatencySamples();
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
  });
  const result = await instance;
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
  };
}

/** Write every key once (reads need something to read), a bounded number at a time. */
export async function preload(spec: PreloadSpec): Promise<PreloadResult> {
  const started = Date.now();
  const cache = new RequestCache(spec.dialect, spec.valueBytes);
  let next = 0;
  let written = 0;
  const one = async (key: number): Promise<void> => {
    const r = cache.get('put', key);
    let lastError = '';
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const status = await httpCall(spec.url, r.method, r.path, r.body, 10_000);
        if (status >= 200 && status < 300) return;
        lastError = `HTTP ${status}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`preload of key ${key} failed: ${lastError}`);
  };
  await Promise.all(
    Array.from({ length: Math.min(spec.concurrency, spec.keys) }, async () => {
      while (next < spec.keys) {
        await one(next++);
        written++;
      }
    }),
  );
  return { written, ms: Date.now() - started };
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

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'run':
      return runLoad(req.spec);
    case 'preload':
      return preload(req.spec);
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
    handle(req).then(
      (result) => reply({ id: req.id, ok: true, result }),
      (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
  // The runner closing our stdin (or dying) ends us.
  lines.on('close', () => process.exit(0));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) serve();
