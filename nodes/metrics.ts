/**
 * A replica process's metrics: one prom-client Registry (Prometheus text exposition format 0.0.4)
 * with the replica id and protocol as default labels on every sample. Counters and gauges are
 * read at scrape time from closures (prom-client's `collect()` callbacks), so hot paths only bump
 * plain numbers; histograms are prom-client's, observed where the time is measured.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EventLoopDelay, type EventLoopDelayOptions } from './event-loop-delay.js';

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

/** A value read at scrape time: one number, or one per label set. */
export type Reading = () => number | Sample[];

export interface ReplicaMetricsOptions {
  id: string;
  protocol: string;
  /**
   * prom-client's collectDefaultMetrics: CPU, resident memory, heap and heap spaces, GC durations,
   * handles, file descriptors and its own event-loop lag gauges. Once per process only: prom-client
   * cannot stop them (their timer and GC observer live as long as the process).
   */
  processMetrics?: boolean;
  /** consensus_event_loop_delay_* (event-loop-delay.ts); stopped by close(). */
  eventLoop?: boolean | EventLoopDelayOptions;
}

export class ReplicaMetrics {
  readonly registry = new Registry();
  readonly eventLoop: EventLoopDelay | null;
  private scrape = 0;

  constructor(options: ReplicaMetricsOptions) {
    this.registry.setDefaultLabels({ replica: options.id, protocol: options.protocol });
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
    const loop = options.eventLoop ?? false;
    this.eventLoop = loop === false ? null : new EventLoopDelay(this.registry, loop === true ? {} : loop);
  }

  /** A counter whose value `read` returns at each scrape (it must never go down). */
  counter(name: string, help: string, read: Reading, labelNames: readonly string[] = []): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const v = read();
        if (typeof v === 'number') this.inc(v);
        else for (const s of v) this.inc(s.labels, s.value);
      },
    });
  }

  /** A gauge whose value `read` returns at each scrape. */
  gauge(name: string, help: string, read: Reading, labelNames: readonly string[] = []): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const v = read();
        if (typeof v === 'number') this.set(v);
        else for (const s of v) this.set(s.labels, s.value);
      },
    });
  }

  /** A prom-client histogram in this registry; callers choose (and explain) their buckets. */
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram<L>({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /**
   * `read` evaluated at most once per scrape: several metrics read one status object (a
   * protocol core's status() builds a fresh one at every call).
   */
  perScrape<T>(read: () => T): () => T {
    let at = -1;
    let value: T;
    return () => {
      if (at !== this.scrape) {
        value = read();
        at = this.scrape;
      }
      return value;
    };
  }

  /** GET /metrics. */
  render(): Promise<string> {
    this.scrape++;
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.eventLoop?.close();
  }
}
