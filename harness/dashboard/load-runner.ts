/**
 * The dashboard's heavy-load toggle: a few closed-loop clients doing puts and linearizable gets on
 * random keys against random running replicas, so throughput and latency can be watched while
 * faults are injected. One point a second: operations answered, errors, p50 and p99 latency.
 */
import { kv } from '../client/kv-client.js';
import type { LoadPoint, LoadView } from './dashboard-types.js';

export interface LoadOptions {
  /** Base URLs of the replicas that are up right now. */
  urls: () => string[];
  concurrency?: number;
  keys?: number;
  timeoutMs?: number;
  /** Points kept (one a second). */
  historyPoints?: number;
}

interface Bucket {
  ok: number;
  errors: number;
  latenciesMs: number[];
}

export class LoadRunner {
  private running = false;
  private loops: Array<Promise<void>> = [];
  private bucket: Bucket = emptyBucket();
  private readonly points: LoadPoint[] = [];
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;

  constructor(private readonly o: LoadOptions) {}

  view(): LoadView {
    return { running: this.running, points: [...this.points] };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.bucket = emptyBucket();
    this.timer = setInterval(() => this.roll(), 1000);
    for (let i = 0; i < (this.o.concurrency ?? 8); i++) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const urls = this.o.urls();
      const url = urls[Math.floor(Math.random() * urls.length)];
      if (url === undefined) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      await this.one(url);
    }
  }

  private async one(url: string): Promise<void> {
    const key = `load-${Math.floor(Math.random() * (this.o.keys ?? 100))}`;
    const timeoutMs = this.o.timeoutMs ?? 2000;
    const started = performance.now();
    let ok = false;
    try {
      const res = Math.random() < 0.6 ? await kv.put(url, key, `v${++this.seq}`, { timeoutMs }) : await kv.get(url, key, 'linearizable', { timeoutMs });
      ok = res.status === 200 || res.status === 404;
    } catch {
      ok = false;
    }
    const b = this.bucket;
    if (ok) {
      b.ok++;
      b.latenciesMs.push(performance.now() - started);
    } else {
      b.errors++;
      // An error answered at once (NO_LEADER) would otherwise spin this loop.
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private roll(): void {
    const b = this.bucket;
    this.bucket = emptyBucket();
    const sorted = b.latenciesMs.sort((x, y) => x - y);
    this.points.push({ timeMs: Date.now(), okPerSec: b.ok, errorsPerSec: b.errors, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) });
    if (this.points.length > (this.o.historyPoints ?? 120)) this.points.shift();
  }
}

const emptyBucket = (): Bucket => ({ ok: 0, errors: 0, latenciesMs: [] });

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
