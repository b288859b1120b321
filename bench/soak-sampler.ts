/**
 * The soak's sampler, in its own process (`node --import tsx bench/soak-sampler.ts`, started by
 * soak-sampler-client.ts), so that neither the runner's work nor the load generator's can delay
 * the event loop that times its probes. While a soak round runs it watches every replica:
 *
 * - **probes**: `GET /health` (etcd: `GET /version`) every `probeIntervalMs` (20 ms), one in
 *   flight per replica, each timed from send to the end of the answer. A replica whose event
 *   loop is blocked (a snapshot serialised in one go) answers late by about as long as it was
 *   blocked; this is how the issue measured its 272 ms stalls. A probe also waits behind the
 *   requests queued before it, so it is an upper bound of the event-loop stall, not the stall;
 * - **status** every `statusIntervalMs` (1 s): leader, epoch, snapshot index, keys;
 * - **RSS** every second from /proc/<pid>/status, of every replica and of `others`;
 * - **event-loop gauges** every second from /metrics when the replicas export prom-client's
 *   `nodejs_eventloop_lag_p99_seconds` and `nodejs_eventloop_lag_max_seconds` (measured inside
 *   the replica by perf_hooks.monitorEventLoopDelay: the stall itself, no queueing);
 * - the leader-change counter, and status once more, at start and at stop;
 * - its own event-loop delay, so a reader can tell a slow probe from a slow sampler.
 *
 * Protocol on stdio, one JSON line each: the runner writes a SamplerSpec, we answer
 * `{"ready":true}` once every replica has been looked at; the runner writes `stop`, we answer
 * `{"result": ...}`. Our stdin closing (the runner is done with us, or died) ends us.
 */
import { resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { httpCall } from './http-call.js';
import { rssBytes } from './proc-rss.js';
import { parsePrometheus } from './prom-metrics.js';
import type { ReplicaSamples, SamplerReply, SamplerResult, SamplerSpec } from './soak-protocol.js';
import { readStatus, statusRequest } from './soak-status.js';

const lagP99 = 'nodejs_eventloop_lag_p99_seconds';
const lagMax = 'nodejs_eventloop_lag_max_seconds';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export class Sampler {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly samples: ReplicaSamples[];
  private readonly others: SamplerResult['others'];
  private readonly selfLag: [number, number][] = [];
  private readonly probePath: string;
  private startMs = 0;

  constructor(private readonly spec: SamplerSpec) {
    this.probePath = spec.dialect === 'etcd' ? '/version' : '/health';
    this.samples = spec.replicas.map((r) => ({
      ...r,
      selfId: null,
      probes: [],
      status: [],
      statusErrors: 0,
      rss: [],
      gauges: null,
      leaderCounter: { start: null, end: null },
    }));
    this.others = spec.others.map((o) => ({ ...o, rss: [] }));
  }

  /** Looks at every replica once (counters, gauges present?, status, RSS), then starts the loops. */
  async start(): Promise<void> {
    this.startMs = Date.now();
    await Promise.all(
      this.samples.map(async (r) => {
        const metrics = await this.scrape(r.url);
        r.leaderCounter.start = this.counter(metrics);
        if (metrics?.has(lagMax) === true && metrics.has(lagP99)) r.gauges = [];
        await this.pollStatus(r);
      }),
    );
    this.recordRss();
    for (const r of this.samples) this.loops.push(this.probeLoop(r), this.every(this.spec.statusIntervalMs, () => this.pollStatus(r)));
    this.loops.push(this.every(1000, async () => this.recordRss()), this.selfLagLoop());
  }

  async stop(): Promise<SamplerResult> {
    this.stopped = true;
    await Promise.all(this.loops);
    // A last look at every replica, so that the state at the end is on record too.
    await Promise.all(
      this.samples.map(async (r) => {
        await this.pollStatus(r);
        r.leaderCounter.end = this.counter(await this.scrape(r.url));
      }),
    );
    return { startMs: this.startMs, endMs: Date.now(), probePath: this.probePath, replicas: this.samples, others: this.others, selfLag: this.selfLag };
  }

  private async probeLoop(r: ReplicaSamples): Promise<void> {
    let next = performance.now();
    while (!this.stopped) {
      const sentMs = Date.now();
      const t0 = performance.now();
      let ms: number;
      try {
        const status = await httpCall(r.url, 'GET', this.probePath, null, this.spec.probeTimeoutMs);
        ms = status >= 200 && status < 300 ? performance.now() - t0 : -1;
      } catch {
        ms = -1;
      }
      r.probes.push([sentMs, ms === -1 ? -1 : Math.round(ms * 1000) / 1000]);
      // Fixed rate without catching up: after a stall, one probe, not a burst of them.
      next = Math.max(next + this.spec.probeIntervalMs, performance.now());
      if (ms === -1) next = Math.max(next, performance.now() + 100); // a dead replica: no busy loop
      await sleep(next - performance.now());
    }
  }

  private async pollStatus(r: ReplicaSamples): Promise<void> {
    const t = Date.now();
    const req = statusRequest(this.spec.dialect);
    try {
      const res = await fetch(r.url + req.path, { method: req.method, ...(req.body === null ? {} : { body: req.body }), signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const s = readStatus(this.spec.dialect, await res.json());
      if (s.self !== null) r.selfId = s.self;
      r.status.push([t, s.leader, s.epoch, s.snapshot, s.keys]);
    } catch {
      r.statusErrors++;
    }
    if (r.gauges !== null) {
      const m = await this.scrape(r.url);
      const p99 = m?.get(lagP99);
      const max = m?.get(lagMax);
      if (p99 !== undefined && max !== undefined) r.gauges.push([Date.now(), p99, max]);
    }
  }

  private recordRss(): void {
    const t = Date.now();
    for (const p of [...this.samples, ...this.others]) {
      const bytes = rssBytes(p.pid);
      if (bytes !== null) p.rss.push([t, bytes]);
    }
  }

  /** Our own event loop's worst delay over each second: a probe slower than this was the replica's doing. */
  private async selfLagLoop(): Promise<void> {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    while (!this.stopped) {
      await sleep(1000);
      this.selfLag.push([Date.now(), Math.round(h.max / 1e4) / 100]);
      h.reset();
    }
    h.disable();
  }

  private async every(intervalMs: number, fn: () => Promise<void>): Promise<void> {
    let next = performance.now();
    while (!this.stopped) {
      await fn();
      next = Math.max(next + intervalMs, performance.now());
      // Wake at least every 100 ms so that stop() does not wait a whole interval.
      while (!this.stopped && performance.now() < next) await sleep(Math.min(100, next - performance.now()));
    }
  }

  private async scrape(url: string): Promise<Map<string, number> | null> {
    try {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) });
      return res.ok ? parsePrometheus(await res.text()) : null;
    } catch {
      return null;
    }
  }

  private counter(metrics: Map<string, number> | null): number | null {
    const name = this.spec.leaderCounter;
    return name === null ? null : (metrics?.get(name) ?? null);
  }
}

function serve(): void {
  const reply = (r: SamplerReply): void => void process.stdout.write(JSON.stringify(r) + '\n');
  let sampler: Sampler | null = null;
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const text = line.trim();
    if (text === '') return;
    if (text === 'stop') {
      if (sampler === null) return reply({ error: 'stop before a spec' });
      // The runner closes our stdin once it has the result, which ends us (below).
      void sampler.stop().then(
        (result) => reply({ result }),
        (err: unknown) => reply({ error: String(err) }),
      );
      return;
    }
    sampler = new Sampler(JSON.parse(text) as SamplerSpec);
    sampler.start().then(
      () => reply({ ready: true }),
      (err: unknown) => reply({ error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
  lines.on('close', () => process.exit(0));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) serve();
