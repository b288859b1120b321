import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { build } from '../../nodes/http/app.js';
import type { KvService } from '../../nodes/http/kv-service.js';
import type { RaftDebugState } from '../../nodes/debug/debug-state.js';
import { enableDebugApi } from '../../nodes/debug/enable-debug-api.js';
import type { Replica } from '../cluster/cluster.js';
import { until } from '../client/kv-client.js';
import { FaultProxy } from '../proxy/fault-proxy.js';
import type { ControlledCluster } from './cluster-actions.js';
import type { DashboardSnapshot, TimelineEvent } from './dashboard-types.js';
import { buildDashboard, startDashboard } from './dashboard-server.js';
import { ReplicaMetrics } from '../../nodes/metrics.js';
import { testAdmin, testAdminToken } from '../../nodes/http/admin-test-support.js';

/** A replica's HTTP face with the real debug routes, and a fixed Raft state: n1 leads term 2. */
function fakeReplica(id: string, metrics?: ReplicaMetrics): FastifyInstance {
  const state = (): RaftDebugState => ({
    protocol: 'raft', id, pid: 100, role: id === 'n1' ? 'leader' : 'follower', leader: 'n1', epoch: 2, epochLabel: 'term 2',
    commitIndex: 3, appliedIndex: 3, timeMs: Date.now(), term: 2, votedFor: 'n1', lastLogIndex: 3, snapshotIndex: 0,
    log: [1, 2, 3].map((index) => ({ index, term: index === 1 ? 1 : 2, kind: 'command' })),
  });
  const service: KvService = {
    id, protocol: 'raft', leader: () => 'n1', httpUrlOf: () => null,
    execute: async () => ({ kind: 'put' }) as never,
    readLinearizable: async () => 'v', readStale: () => 'v', status: () => ({ id }), healthy: () => true,
  };
  return build({ adminToken: testAdminToken, service, ...(metrics === undefined ? {} : { metrics }), debug: enableDebugApi(id, { debugState: state }, { tap: null }) });
}

interface Fixture {
  cluster: ControlledCluster & { calls: string[] };
  proxy: FaultProxy;
  storeDir: string;
}

/** `metrics`: replicas whose /metrics has the event-loop delay (the others have none). */
async function fixture(t: Test, metrics: Record<string, ReplicaMetrics> = {}): Promise<Fixture> {
  const apps = ['n1', 'n2', 'n3'].map((id) => fakeReplica(id, metrics[id]));
  t.teardown(() => Promise.all(apps.map((a) => a.close())));
  const urls = await Promise.all(apps.map((a) => a.listen({ host: '127.0.0.1', port: 0 })));
  const replicas: Replica[] = urls.map((httpUrl, i) => ({ id: `n${i + 1}`, host: '127.0.0.1', httpUrl, httpPort: 0, peerPort: 0, dataDir: '', state: 'up', process: null }));
  const calls: string[] = [];
  const find = (id: string) => replicas.find((r) => r.id === id)!;
  const cluster = {
    replicas,
    adminHeaders: testAdmin,
    calls,
    kill: async (id: string) => void (calls.push(`kill ${id}`), (find(id).state = 'killed')),
    restart: async (id: string, o: { wipe?: boolean } = {}) => void (calls.push(`restart ${id}${o.wipe ? ' wiped' : ''}`), (find(id).state = 'up')),
    pause: (id: string) => {
      if (find(id).state !== 'up') throw new Error(`${id} is ${find(id).state}, cannot pause`);
      calls.push(`pause ${id}`);
      find(id).state = 'paused';
    },
    resume: (id: string) => void (calls.push(`resume ${id}`), (find(id).state = 'up')),
  };
  const proxy = await FaultProxy.start({ ids: ['n1', 'n2', 'n3'] });
  t.teardown(() => proxy.close());
  const storeDir = await mkdtemp(join(tmpdir(), 'dashboard-test-'));
  t.teardown(() => rm(storeDir, { recursive: true, force: true }));
  return { cluster, proxy, storeDir };
}

type StateAnswer = { snapshot: DashboardSnapshot | null; events: TimelineEvent[] };

t.test('snapshots, buttons and the kv panel through the server API', async (t) => {
  const f = await fixture(t);
  const d = await buildDashboard({ protocol: 'raft', cluster: f.cluster, proxy: f.proxy, storeDir: f.storeDir, pollMs: 50 });
  t.teardown(() => d.close());
  const state = async () => (await d.app.inject({ method: 'GET', url: '/api/state' })).json() as StateAnswer;
  const post = (url: string, payload?: object) => d.app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload }) });

  const first = await until(state, (s) => s.snapshot?.leader === 'n1', 10_000, 'leader n1 in a snapshot');
  t.match(first.snapshot!.replicas[0], { id: 'n1', process: 'up', state: { role: 'leader', log: [{ index: 1, term: 1 }, {}, {}] } });
  t.same(first.snapshot!.links![0], { a: 'n1', b: 'n2', ab: 'pass', ba: 'pass' });
  t.match(first.events, [{ kind: 'leader', text: 'leader n1 (term 2)' }]);

  t.equal((await post('/api/links/n1/n2/partition')).statusCode, 200);
  t.equal(f.proxy.link('n2', 'n1').mode, 'blackhole');
  const cut = await until(state, (s) => s.snapshot?.links?.[0]?.ab === 'blackhole', 10_000, 'cut link in a snapshot');
  t.ok(cut.events.some((e) => e.text === 'link n1–n2 cut (blackhole)'));
  t.equal((await post('/api/splits/isolate-leader')).statusCode, 200);
  t.equal(f.proxy.link('n3', 'n1').mode, 'blackhole');
  t.equal(f.proxy.link('n2', 'n3').mode, 'pass');
  t.equal((await post('/api/splits/heal-all')).statusCode, 200);
  t.equal(f.proxy.link('n1', 'n2').mode, 'pass');
  t.equal((await post('/api/splits/ring')).statusCode, 400);
  t.equal((await post('/api/links/n1/n1/partition')).statusCode, 409);

  t.equal((await post('/api/replicas/n1/kill')).statusCode, 200);
  t.equal((await post('/api/replicas/n1/pause')).statusCode, 409, 'a killed replica cannot be paused');
  t.equal((await post('/api/replicas/n9/kill')).statusCode, 409);
  t.equal((await post('/api/replicas/n1/explode')).statusCode, 400);
  t.equal((await post('/api/replicas/n1/wipe')).statusCode, 200);
  t.same(f.cluster.calls, ['kill n1', 'restart n1 wiped']);
  t.equal((await post('/api/replicas/n2/kill')).statusCode, 200);
  const killed = await until(state, (s) => s.snapshot?.replicas[1]?.process === 'killed', 10_000, 'n2 killed');
  t.match(killed.snapshot!.replicas[1], { stale: true, state: { role: 'follower' } }, 'the last known state is kept');
  t.ok(killed.events.some((e) => e.text === 'n2 killed'));

  const put = (await post('/api/kv', { op: 'put', key: 'k', value: 'v', node: 'n3' })).json();
  t.match(put, { ok: true, node: 'n3', status: 200, body: { ok: true } });
  t.match((await post('/api/kv', { op: 'get', key: 'k' })).json(), { ok: true, body: { key: 'k', value: 'v' } });
  t.equal((await post('/api/kv', { op: 'put', key: 'k', value: 'v', node: 'n2' })).statusCode, 409, 'n2 is down');
  t.equal((await post('/api/kv', { op: 'drop', key: 'k' })).statusCode, 400);

  t.same((await d.app.inject({ method: 'GET', url: '/api/runs' })).json(), { runs: [] });
  t.equal((await d.app.inject({ method: 'GET', url: '/api/runs/nope' })).statusCode, 404);
  const page = await d.app.inject({ method: 'GET', url: '/' });
  t.equal(page.statusCode, 200);
  t.match(page.body, /<script type="module" src="\/static\/app.js">/);
  t.match((await d.app.inject({ method: 'GET', url: '/static/graph.js' })).headers['content-type'], /javascript/);
  t.equal((await d.app.inject({ method: 'GET', url: '/static/..%2Fdashboard-server.ts' })).statusCode, 404);
});

t.test('the event stream pushes snapshots, and close() ends open streams', async (t) => {
  const f = await fixture(t);
  const d = await startDashboard({ protocol: 'raft', cluster: f.cluster, proxy: f.proxy, storeDir: f.storeDir, pollMs: 50, port: 0 });
  let closed = false;
  t.teardown(() => (closed ? undefined : d.close()));
  const res = await fetch(d.url + 'api/stream');
  t.match(res.headers.get('content-type'), /text\/event-stream/);
  const reader = res.body!.getReader();
  let text = '';
  const deadline = Date.now() + 10_000;
  while (!text.includes('event: snapshot') && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  t.match(text, /event: snapshot\ndata: \{"protocol":"raft"/);
  await d.close();
  closed = true;
  const rest = await reader.read().catch(() => ({ done: true }));
  while (!(await reader.read().catch(() => ({ done: true }))).done) {
    // drain what was sent before the end
  }
  t.pass(`the stream ended (${rest.done ? 'at once' : 'after the last event'})`);
});

t.test("a replica's event-loop delay and a 300 ms stall reach the snapshot and the timeline", async (t) => {
  // In-process replicas share one event loop: only n2 measures it, so only n2 shows a delay.
  const n2 = new ReplicaMetrics({ id: 'n2', protocol: 'raft', eventLoop: { windowMs: 200 } });
  t.teardown(() => n2.close());
  const f = await fixture(t, { n2 });
  const d = await buildDashboard({ protocol: 'raft', cluster: f.cluster, proxy: f.proxy, storeDir: f.storeDir, pollMs: 50 });
  t.teardown(() => d.close());
  const state = async () => (await d.app.inject({ method: 'GET', url: '/api/state' })).json() as StateAnswer;
  const lagOf = (s: StateAnswer, id: string) => s.snapshot?.replicas.find((r) => r.id === id)?.lag;
  const first = await until(state, (s) => (lagOf(s, 'n2')?.points.length ?? 0) >= 2, 10_000, 'two reads of n2');
  t.equal(lagOf(first, 'n1'), undefined, 'n1 has no event-loop metrics');
  const url = f.cluster.replicas[1]!.httpUrl;
  // A loaded machine stalls on its own too, but not for 250 ms (the bucket bound below 300).
  const sentAt = Date.now();
  const res = await fetch(url + '/admin/debug/block-event-loop', { method: 'POST', headers: { 'content-type': 'application/json', ...testAdmin }, body: '{"ms":300}' });
  t.equal(res.status, 200);
  const ours = (s: StateAnswer) => {
    const stall = lagOf(s, 'n2')?.lastStall;
    return stall != null && stall.timeMs >= sentAt && stall.ms >= 250;
  };
  const stalled = await until(state, ours, 10_000, 'the stall in a snapshot');
  const stall = lagOf(stalled, 'n2')!.lastStall!;
  t.ok(stall.ms >= 250, `a stall of ${stall.atLeast ? 'over ' : ''}${stall.ms} ms`);
  t.ok(stalled.events.some((e) => e.kind === 'stall' && e.replica === 'n2' && /^n2: event loop stalled/.test(e.text)), 'on the timeline');
});

t.test('power buttons: refused without power-loss filesystems, power off one or all with them', async (t) => {
  const f = await fixture(t);
  const post = (d: Awaited<ReturnType<typeof buildDashboard>>, url: string) => d.app.inject({ method: 'POST', url });
  const plain = await buildDashboard({ protocol: 'raft', cluster: f.cluster, proxy: f.proxy, storeDir: f.storeDir, pollMs: 50 });
  t.teardown(() => plain.close());
  const refused = await post(plain, '/api/replicas/n1/power-off');
  t.equal(refused.statusCode, 409);
  t.match(refused.json(), { ok: false, error: /--lazyfs/ }, 'the error says what is needed');
  t.equal((await post(plain, '/api/power-failure')).statusCode, 409);
  const first = await until(async () => (await plain.app.inject({ method: 'GET', url: '/api/state' })).json() as StateAnswer, (s) => s.snapshot !== null, 10_000, 'a snapshot');
  t.equal(first.snapshot!.powerLoss, false, 'the snapshot tells the page to disable the buttons');
  t.equal(first.snapshot!.hosts, 'loopback', 'and where the replicas run (the header shows it)');
  await plain.close();

  const lost = { droppedBytes: 8192, droppedFiles: 2, undoneOps: 1, undoErrors: 0 };
  const cluster: ControlledCluster = {
    ...f.cluster,
    powerLossEnabled: true,
    powerOff: async (id: string) => (f.cluster.calls.push(`power-off ${id}`), lost),
    powerOffAll: async () => (f.cluster.calls.push('power-off all'), { n1: lost, n2: lost, n3: lost }),
  };
  const d = await buildDashboard({ protocol: 'raft', cluster, proxy: f.proxy, storeDir: f.storeDir, pollMs: 50, hosts: 'netns' });
  t.teardown(() => d.close());
  const one = await post(d, '/api/replicas/n2/power-off');
  t.equal(one.statusCode, 200);
  t.match(one.json(), { ok: true, done: /^n2 lost power: 8 KiB of unsynced data in 2 files and 1 unsynced namespace changes discarded/ });
  const all = await post(d, '/api/power-failure');
  t.match(all.json(), { ok: true, done: /every replica lost power \(24 KiB .*\) and restarted/ });
  t.same(f.cluster.calls, ['power-off n2', 'power-off all', 'restart n1', 'restart n2', 'restart n3'], 'all restart after the power failure');
  const s = await until(async () => (await d.app.inject({ method: 'GET', url: '/api/state' })).json() as StateAnswer, (s) => s.snapshot?.powerLoss === true && s.events.some((e) => e.text.startsWith('power failure')), 10_000, 'power on the timeline');
  t.ok(s.events.some((e) => e.kind === 'fault' && e.text.startsWith('n2 lost power')), 'both are on the timeline');
  t.equal(s.snapshot!.hosts, 'netns', 'a cluster in namespaces says so');
});
