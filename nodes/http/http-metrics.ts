import type { FastifyInstance } from 'fastify';
import type { Histogram } from 'prom-client';
import type { ReplicaMetrics, Sample } from '../metrics.js';

/**
 * Buckets of one HTTP request, in seconds: a stale read answers in ~0.1 ms, a write through
 * Raft at one connection in ~1 ms (one fsync) and at 100 connections in 10-30 ms; writes wait up
 * to 3 s for a leader (NO_LEADER) and 5 s before TIMEOUT, which the top bounds keep apart.
 */
const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Observer = ReturnType<Histogram<string>['labels']>;

/** Counts and times one answered request; the onResponse hook calls it (and bench/metrics-hot-path.ts). */
export type RequestObserver = (method: string, route: string, status: number, seconds: number) => void;

/**
 * consensus_http_requests_total{method, route, status} (a counter: each request bumps a plain
 * number, the scrape reads it) and consensus_http_request_duration_seconds{method, route,
 * status_class} (a histogram). `route` is the route's pattern (`/kv/:key`), never the URL, so the
 * label sets stay few; each gets its prom-client child once, so a request costs two Map lookups,
 * an increment and one observe().
 */
export function httpMetrics(metrics: ReplicaMetrics): RequestObserver {
  const answered = new Map<string, Sample>();
  metrics.counter('consensus_http_requests_total', 'Client HTTP requests answered.', () => [...answered.values()], ['method', 'route', 'status']);
  const latency = metrics.histogram(
    'consensus_http_request_duration_seconds',
    'Time from a request arriving to its response sent, by route and status class (2xx, 4xx, 5xx).',
    ['method', 'route', 'status_class'],
    REQUEST_BUCKETS,
  );
  const observers = new Map<string, Observer>();
  return (method, route, status, seconds) => {
    const key = `${method} ${route} ${status}`;
    let count = answered.get(key);
    if (count === undefined) {
      count = { labels: { method, route, status: String(status) }, value: 0 };
      answered.set(key, count);
    }
    count.value++;
    const statusClass = `${Math.floor(status / 100)}xx`;
    const classKey = `${method} ${route} ${statusClass}`;
    let observer = observers.get(classKey);
    if (observer === undefined) {
      observer = latency.labels({ method, route, status_class: statusClass });
      observers.set(classKey, observer);
    }
    observer.observe(seconds);
  };
}

/** The HTTP metrics of `app`, timed with fastify's reply.elapsedTime: from the request's arrival to the response's end. */
export function addHttpMetrics(app: FastifyInstance, metrics: ReplicaMetrics): void {
  const observe = httpMetrics(metrics);
  app.addHook('onResponse', (request, reply, done) => {
    observe(request.method, request.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
