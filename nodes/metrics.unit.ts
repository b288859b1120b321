/**
 * The replica's metrics registry (nodes/metrics.ts) in-process: closures read at scrape time,
 * default labels on every sample, valid Prometheus text with Node's process metrics and the
 * histograms, and a deliberate 300 ms stall of the event loop (the --debug-api route) seen in
 * consensus_event_loop_delay_seconds.
 */
import t from 'tap';
import { build } from './http/app.js';
import type { KvService } from './http/kv-service.js';
import { enableDebugApi } from './debug/enable-debug-api.js';
import { ReplicaMetrics } from './metrics.js';
import { snapshotTimer, storageWriteTimer } from './replica-metrics.js';
import { until } from '../harness/client/kv-client.js';
import { histogramOf, parsePromText, sampleValue, type PromFamily } from '../harness/client/prom-text.js';
import { testAdmin, testAdminToken } from './http/admin-test-support.js';

const service: KvService = {
  id: 'n1', protocol: 'raft', leader: () => 'n1', httpUrlOf: () => null,
  execute: async () => ({ kind: 'put' }),
  readLinearizable: async () => 'v', readStale: () => 'v', status: () => ({ id: 'n1' }), healthy: () => true,
};

/** Every sample carries the replica id and the protocol (the registry's default labels). */
function everySampleLabelled(families: Map<string, PromFamily>): boolean {
  return [...families.values()].every((f) => f.samples.every((s) => s.labels['replica'] === 'n1' && s.labels['protocol'] === 'raft'));
}

t.test('counters and gauges read their closures once per scrape, with the default labels', async (t) => {
  const m = new ReplicaMetrics({ id: 'n1', protocol: 'raft' });
  let proposals = 0;
  let statusCalls = 0;
  const status = m.perScrape(() => ({ term: 3 + statusCalls++, commit: 7 }));
  m.counter('consensus_proposals_total', 'Proposals.', () => proposals);
  m.counter('consensus_peer_messages_sent_total', 'Per peer.', () => [{ labels: { peer: 'n2' }, value: 5 }, { labels: { peer: 'n3' }, value: 6 }], ['peer']);
  m.gauge('raft_term', 'Term.', () => status().term);
  m.gauge('consensus_commit_index', 'Commit.', () => status().commit);
  proposals = 4;
  let f = parsePromText(await m.render());
  t.equal(sampleValue(f, 'consensus_proposals_total'), 4);
  t.equal(sampleValue(f, 'consensus_peer_messages_sent_total', { peer: 'n3' }), 6);
  t.equal(sampleValue(f, 'raft_term'), 3);
  t.equal(statusCalls, 1, 'status() read once for both gauges');
  proposals = 9;
  f = parsePromText(await m.render());
  t.equal(sampleValue(f, 'consensus_proposals_total'), 9, 'the counter follows the plain number');
  t.equal(sampleValue(f, 'raft_term'), 4, 'read again at the next scrape');
  t.ok(everySampleLabelled(f));
  t.equal(m.contentType, 'text/plain; version=0.0.4; charset=utf-8');
});

t.test('the storage and snapshot histograms: one sample per batch or phase', async (t) => {
  const m = new ReplicaMetrics({ id: 'n1', protocol: 'raft' });
  const write = storageWriteTimer(m);
  const snapshot = snapshotTimer(m);
  write(0.002, true);
  write(0.0003, true);
  write(0.00002, false);
  snapshot('encode', 0.12);
  snapshot('persist', 0.03);
  const f = parsePromText(await m.render());
  const synced = histogramOf(f, 'consensus_storage_write_seconds', { fsync: 'true' });
  t.equal(synced?.count, 2);
  t.equal(synced?.buckets.find((b) => b.le === 0.001)?.count, 1, 'one fsync under 1 ms');
  t.equal(histogramOf(f, 'consensus_storage_write_seconds', { fsync: 'false' })?.count, 1);
  const encode = histogramOf(f, 'consensus_snapshot_seconds', { phase: 'encode' });
  t.equal(encode?.buckets.find((b) => b.le === 0.1)?.count, 0, 'the 120 ms encode is above 100 ms');
  t.equal(encode?.buckets.find((b) => b.le === 0.25)?.count, 1);
  t.equal(histogramOf(f, 'consensus_snapshot_seconds', { phase: 'persist' })?.sum, 0.03);
});

t.test('GET /metrics: process metrics, HTTP histograms, and a 300 ms event-loop stall seen in the histogram', async (t) => {
  const metrics = new ReplicaMetrics({ id: 'n1', protocol: 'raft', processMetrics: true, eventLoop: { windowMs: 200 } });
  t.teardown(() => metrics.close());
  const app = build({ adminToken: testAdminToken, service, metrics, debug: enableDebugApi('n1', {}, { tap: null }) });
  t.teardown(() => app.close());
  const scrape = async () => parsePromText((await app.inject({ url: '/metrics' })).body);
  t.equal((await app.inject({ url: '/health' })).statusCode, 200);
  t.equal((await app.inject({ url: '/nope' })).statusCode, 404);

  const res = await app.inject({ url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const f = parsePromText(res.body);
  t.ok(everySampleLabelled(f), 'every sample has replica and protocol labels');
  for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
    t.ok(sampleValue(f, name) !== undefined, `default metric ${name}`);
  }
  t.equal(f.get('nodejs_gc_duration_seconds')?.type, 'histogram', 'GC durations');
  t.equal(sampleValue(f, 'consensus_http_requests_total', { route: '/health', status: '200' }), 1);
  t.equal(histogramOf(f, 'consensus_http_request_duration_seconds', { route: '/health', status_class: '2xx' })?.count, 1);
  t.equal(histogramOf(f, 'consensus_http_request_duration_seconds', { route: 'unknown', status_class: '4xx' })?.count, 1, 'a 404 has no route');

  const overLimit = (families: Map<string, PromFamily>, le: number) => {
    const h = histogramOf(families, 'consensus_event_loop_delay_seconds');
    return h === undefined ? 0 : h.count - (h.buckets.find((b) => b.le === le)?.count ?? h.count);
  };
  const before = await until(scrape, (s) => (histogramOf(s, 'consensus_event_loop_delay_seconds')?.count ?? 0) > 0, 5000, 'a first sample');
  // Over 250 ms (the bucket bound below 300): a loaded machine stalls on its own too, but not that long.
  const stallsBefore = overLimit(before, 0.25);
  const blocked = await app.inject({ method: 'POST', headers: testAdmin, url: '/admin/debug/block-event-loop', payload: { ms: 300 } });
  t.equal(blocked.statusCode, 200);
  const after = await until(scrape, (s) => overLimit(s, 0.25) > stallsBefore, 5000, 'the stall in the histogram');
  t.ok(overLimit(after, 0.25) > stallsBefore, 'a sample over 250 ms');
  t.equal(overLimit(after, 5), 0, 'and none over 5 s');
  await until(scrape, (s) => (sampleValue(s, 'consensus_event_loop_delay_max_seconds') ?? 0) >= 0.25, 5000, 'the stall as the max of its window');
  t.ok(sampleValue(after, 'consensus_event_loop_delay_p50_seconds') !== undefined, 'a median');
});
