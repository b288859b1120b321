/**
 * `node --import tsx bench/metrics-hot-path.ts`: what the replica's metrics cost on the hot path,
 * before and after the move to prom-client (nodes/metrics.ts), in rounds that alternate the two
 * so that a shared, loaded machine hurts both alike; the median round is reported.
 *
 * - per request: before, the onResponse hook bumped a Map entry keyed by method, route and status
 *   (the removed code, copied below); after, it also observes the latency histogram
 *   (nodes/http/http-metrics.ts) and reads reply.elapsedTime;
 * - per storage batch: before, the store bumped plain counters; after, it also reads the clock
 *   twice and observes consensus_storage_write_seconds;
 * - per scrape (not the hot path): one GET /metrics of a Raft replica's registry with Node's
 *   process metrics.
 *
 * Not a timed test: run it by hand; it takes a few seconds.
 */
import { ReplicaMetrics } from '../nodes/metrics.js';
import { httpMetrics } from '../nodes/http/http-metrics.js';
import { storageWriteTimer } from '../nodes/replica-metrics.js';
import { RaftReplicaStats } from '../nodes/raft/raft-replica-stats.js';
import type { RaftStatus } from '../protocols/raft/types.js';
import type { Transport } from '../nodes/transport/index.js';

const CALLS = 1_000_000;
const ROUNDS = 7;
/** The label mix of a put benchmark: almost every request is PUT /kv/:key 200. */
const requests = [
  ['PUT', '/kv/:key', 200],
  ['PUT', '/kv/:key', 200],
  ['PUT', '/kv/:key', 200],
  ['GET', '/kv/:key', 200],
  ['PUT', '/kv/:key', 503],
  ['GET', '/health', 200],
  ['PUT', '/kv/:key', 200],
  ['PUT', '/kv/:key', 200],
] as const;

/** The removed per-request code of nodes/http/app.ts, as it was. */
function oldRequestHook(): (method: string, route: string, status: number) => void {
  const counts = new Map<string, number>();
  return (method, route, status) => {
    const key = `${method} ${route} ${status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
}

function newRequestHook(): (method: string, route: string, status: number) => void {
  const observe = httpMetrics(new ReplicaMetrics({ id: 'n1', protocol: 'raft' }));
  const started = performance.now(); // stands in for fastify's request start time
  return (method, route, status) => observe(method, route, status, (performance.now() - started) / 1000);
}

function oldStorage(): () => void {
  const stats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
  return () => {
    stats.fsyncs += 1;
    stats.writes += 1;
    stats.entriesPersisted += 3;
    stats.bytesPersisted += 900;
  };
}

function newStorage(): () => void {
  const onWrite = storageWriteTimer(new ReplicaMetrics({ id: 'n1', protocol: 'raft' }));
  const stats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
  return () => {
    const started = performance.now();
    // (the LevelDB batch write happens here)
    onWrite((performance.now() - started) / 1000, true);
    stats.fsyncs += 1;
    stats.writes += 1;
    stats.entriesPersisted += 3;
    stats.bytesPersisted += 900;
  };
}

/** Nanoseconds per call of `fn`, one round of CALLS. */
function nsPerCall(fn: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / CALLS;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function compare(name: string, make: { before: () => (i: number) => void; after: () => (i: number) => void }): void {
  const before = make.before();
  const after = make.after();
  nsPerCall(before); // warm both up (JIT)
  nsPerCall(after);
  const b: number[] = [];
  const a: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    b.push(nsPerCall(before));
    a.push(nsPerCall(after));
  }
  const mb = median(b);
  const ma = median(a);
  console.log(`${name.padEnd(22)} before ${mb.toFixed(0).padStart(5)} ns   after ${ma.toFixed(0).padStart(5)} ns   +${(ma - mb).toFixed(0)} ns per call (median of ${ROUNDS} rounds of ${CALLS.toLocaleString('en')})`);
}

async function scrapeMs(): Promise<number> {
  const m = new ReplicaMetrics({ id: 'n1', protocol: 'raft', processMetrics: true, eventLoop: true });
  const status = { term: 3, role: 'leader', commitIndex: 10, lastLogIndex: 10 } as RaftStatus;
  const peer = { messagesSent: 1, bytesSent: 2, messagesReceived: 3, dropped: 0 };
  const transport = { stats: () => ({ peers: { n2: peer, n3: peer }, rejectedConnections: 0, badFrames: 0 }) } as unknown as Transport;
  const forwarding = { client: { writesForwarded: 0, readsForwarded: 0, refused: 0, timeouts: 0 }, server: { writesProposed: 0, writesRefused: 0, readsServed: 0 } };
  new RaftReplicaStats().register(m, { status: () => status, appliedIndex: () => 10, readsServed: () => 0, disk: { fsyncs: 1, writes: 1, entriesPersisted: 1, bytesPersisted: 1 }, transport, forwarding });
  const observe = httpMetrics(m);
  for (const [method, route, status] of requests) observe(method, route, status, 0.002);
  storageWriteTimer(m)(0.001, true);
  await m.render();
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    await m.render();
    times.push(performance.now() - start);
  }
  const text = await m.render();
  m.close();
  console.log(`one scrape of a Raft replica: ${median(times).toFixed(2)} ms (median of 50), ${text.length.toLocaleString('en')} bytes`);
  return median(times);
}

compare('per request', {
  before: () => {
    const hook = oldRequestHook();
    return (i) => {
      const [method, route, status] = requests[i % requests.length]!;
      hook(method, route, status);
    };
  },
  after: () => {
    const hook = newRequestHook();
    return (i) => {
      const [method, route, status] = requests[i % requests.length]!;
      hook(method, route, status);
    };
  },
});
compare('per storage batch', { before: oldStorage, after: newStorage });
await scrapeMs();
