import t from 'tap';
import type { InjectOptions } from 'fastify';
import { build } from './app.js';
import { NotLeaderError } from './errors.js';
import type { KvService } from './kv-service.js';
import { KvStateMachine } from '../../protocols/kv/state-machine.js';
import type { KvCommand, KvResult } from '../../protocols/kv/commands.js';
import { parsePromText, sampleValue } from '../../harness/client/prom-text.js';
import { testAdmin, testAdminToken } from './admin-test-support.js';
import { adminHeaders } from './admin-auth.js';

/** A one-replica service without replication: enough to test the HTTP contract. */
function localService(id = 'n1', leader: string | null = id, urls: Record<string, string> = {}): KvService & { applied: KvCommand[] } {
  const sm = new KvStateMachine();
  const applied: KvCommand[] = [];
  const leading = () => leader === id;
  return {
    id,
    protocol: 'test',
    applied,
    leader: () => leader,
    httpUrlOf: (x) => urls[x] ?? null,
    async execute(command): Promise<KvResult> {
      if (!leading()) throw new NotLeaderError(leader);
      applied.push(command);
      return sm.apply(command);
    },
    async readLinearizable(key) {
      if (!leading()) throw new NotLeaderError(leader);
      return sm.get(key);
    },
    readStale: (key) => sm.get(key),
    status: () => ({ id, protocol: 'test', role: leading() ? 'leader' : 'follower', leader }),
    healthy: () => true,
  };
}

const json = { 'content-type': 'application/json' };

t.test('put, get, delete and cas follow docs/design.md §4.1', async (t) => {
  const app = build({ adminToken: testAdminToken, service: localService() });
  t.teardown(() => app.close());
  let res = await app.inject({ method: 'PUT', url: '/kv/greeting', headers: json, payload: { value: 'hello' } });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { ok: true });
  res = await app.inject({ method: 'GET', url: '/kv/greeting' });
  t.same(res.json(), { key: 'greeting', value: 'hello' });
  res = await app.inject({ method: 'GET', url: '/kv/greeting?consistency=stale' });
  t.same(res.json(), { key: 'greeting', value: 'hello' });
  res = await app.inject({ method: 'POST', url: '/kv/greeting/cas', headers: json, payload: { expected: 'nope', value: 'x' } });
  t.equal(res.statusCode, 409);
  t.equal(res.json().error.code, 'CAS_MISMATCH');
  t.equal(res.json().error.current, 'hello');
  res = await app.inject({ method: 'POST', url: '/kv/greeting/cas', headers: json, payload: { expected: 'hello', value: 'hi' } });
  t.same(res.json(), { ok: true });
  res = await app.inject({ method: 'DELETE', url: '/kv/greeting' });
  t.same(res.json(), { ok: true, existed: true });
  res = await app.inject({ method: 'DELETE', url: '/kv/greeting' });
  t.same(res.json(), { ok: true, existed: false });
  res = await app.inject({ method: 'GET', url: '/kv/greeting' });
  t.equal(res.statusCode, 404);
  t.equal(res.json().error.code, 'KEY_NOT_FOUND');
  res = await app.inject({ method: 'POST', url: '/kv/fresh/cas', headers: json, payload: { expected: null, value: 'v' } });
  t.same(res.json(), { ok: true });
});

t.test('keys are URL-encoded UTF-8 path segments', async (t) => {
  const app = build({ adminToken: testAdminToken, service: localService() });
  t.teardown(() => app.close());
  const key = 'a/b c?é';
  await app.inject({ method: 'PUT', url: `/kv/${encodeURIComponent(key)}`, headers: json, payload: { value: 'v' } });
  const res = await app.inject({ method: 'GET', url: `/kv/${encodeURIComponent(key)}` });
  t.same(res.json(), { key, value: 'v' });
});

t.test('a body without a JSON content type is still read as JSON (curl -d)', async (t) => {
  const app = build({ adminToken: testAdminToken, service: localService() });
  t.teardown(() => app.close());
  const res = await app.inject({
    method: 'PUT',
    url: '/kv/k',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: '{"value":"v"}',
  });
  t.same(res.json(), { ok: true });
});

t.test('bad input gets a clear 4xx JSON error and changes nothing', async (t) => {
  const service = localService();
  const app = build({ adminToken: testAdminToken, service });
  t.teardown(() => app.close());
  const cases: Array<[string, InjectOptions, number, string]> = [
    ['malformed JSON', { method: 'PUT', url: '/kv/k', headers: json, payload: '{"value": ' }, 400, 'BAD_REQUEST'],
    ['missing value', { method: 'PUT', url: '/kv/k', headers: json, payload: { other: 1 } }, 400, 'BAD_REQUEST'],
    ['empty body', { method: 'PUT', url: '/kv/k', headers: json }, 400, 'BAD_REQUEST'],
    ['value not a string', { method: 'PUT', url: '/kv/k', headers: json, payload: { value: 5 } }, 400, 'BAD_REQUEST'],
    ['cas without expected', { method: 'POST', url: '/kv/k/cas', headers: json, payload: { value: 'v' } }, 400, 'BAD_REQUEST'],
    ['oversized value', { method: 'PUT', url: '/kv/k', headers: json, payload: { value: 'x'.repeat(1024 * 1024 + 1) } }, 413, 'PAYLOAD_TOO_LARGE'],
    ['oversized body', { method: 'PUT', url: '/kv/k', headers: json, payload: { value: '\u0001'.repeat(2 * 1024 * 1024) } }, 413, 'PAYLOAD_TOO_LARGE'],
    ['oversized key', { method: 'PUT', url: `/kv/${'k'.repeat(1025)}`, headers: json, payload: { value: 'v' } }, 413, 'PAYLOAD_TOO_LARGE'],
    ['very long key', { method: 'GET', url: `/kv/${'%C3%A9'.repeat(2000)}` }, 413, 'PAYLOAD_TOO_LARGE'],
    ['unknown consistency', { method: 'GET', url: '/kv/k?consistency=eventual' }, 400, 'BAD_REQUEST'],
    ['unknown route', { method: 'GET', url: '/nope' }, 404, 'NOT_FOUND'],
    ['session seq without id', { method: 'PUT', url: '/kv/k', headers: { ...json, 'x-request-seq': '1' }, payload: { value: 'v' } }, 400, 'BAD_REQUEST'],
    ['session seq not a number', { method: 'PUT', url: '/kv/k', headers: { ...json, 'x-client-id': 'c', 'x-request-seq': 'one' }, payload: { value: 'v' } }, 400, 'BAD_REQUEST'],
  ];
  for (const [name, req, status, code] of cases) {
    const res = await app.inject(req);
    t.equal(res.statusCode, status, `${name}: status`);
    t.equal(res.json().error?.code, code, `${name}: code`);
    t.type(res.json().error?.message, 'string', `${name}: message`);
  }
  t.equal(service.applied.length, 0, 'nothing was applied');
});

t.test('x-client-id / x-request-seq: a retry returns the first result (dissertation §6.3)', async (t) => {
  const service = localService();
  const app = build({ adminToken: testAdminToken, service });
  t.teardown(() => app.close());
  const headers = { ...json, 'x-client-id': 'client-7', 'x-request-seq': '1' };
  await app.inject({ method: 'PUT', url: '/kv/k', headers: json, payload: { value: 'a' } });
  const first = await app.inject({ method: 'POST', url: '/kv/k/cas', headers, payload: { expected: 'a', value: 'b' } });
  t.same(first.json(), { ok: true });
  await app.inject({ method: 'PUT', url: '/kv/k', headers: json, payload: { value: 'a' } });
  const retry = await app.inject({ method: 'POST', url: '/kv/k/cas', headers, payload: { expected: 'a', value: 'b' } });
  t.same(retry.json(), { ok: true });
  const read = await app.inject({ method: 'GET', url: '/kv/k' });
  t.equal(read.json().value, 'a', 'the retried cas was not applied a second time');
});

t.test('no leader known: 503 NO_LEADER with retry-after', async (t) => {
  const app = build({ adminToken: testAdminToken, service: localService('n2', null), limits: { leaderWaitMs: 100 } });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'PUT', url: '/kv/k', headers: json, payload: { value: 'v' } });
  t.equal(res.statusCode, 503);
  t.equal(res.json().error.code, 'NO_LEADER');
  t.equal(res.headers['retry-after'], '1');
  const stale = await app.inject({ method: 'GET', url: '/kv/k?consistency=stale' });
  t.equal(stale.statusCode, 404, 'stale reads are served locally without a leader');
});

t.test('key-value requests are forwarded by the replica itself; admin requests over HTTP, once', async (t) => {
  // The KvService forwards key-value requests over the replica transport (nodes/forwarding); it
  // throws NotLeaderError only while it has no leader to send them to, and the HTTP layer then
  // waits for one and retries, up to leaderWaitMs: never an HTTP hop per request.
  const leaderService = localService('n1');
  const transfers: Array<string | null> = [];
  leaderService.transferLeadership = async (target) => {
    transfers.push(target);
    return { leader: target ?? 'n2' };
  };
  const leader = build({ adminToken: testAdminToken, service: leaderService });
  t.teardown(() => leader.close());
  await leader.listen({ host: '127.0.0.1', port: 0 });
  const address = leader.server.address();
  const url = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : '';
  const followerService = localService('n2', 'n1', { n1: url });
  followerService.transferLeadership = async () => {
    throw new NotLeaderError('n1');
  };
  const follower = build({ adminToken: testAdminToken, service: followerService, limits: { leaderWaitMs: 100 } });
  t.teardown(() => follower.close());

  let res = await follower.inject({ method: 'PUT', url: '/kv/k', headers: json, payload: { value: 'v' } });
  t.equal(res.statusCode, 503, 'a key-value request the service cannot place waits, then NO_LEADER');
  t.equal(leaderService.applied.length, 0, 'it never reached the leader over HTTP');
  res = await follower.inject({ method: 'POST', url: '/admin/transfer-leadership', headers: { ...testAdmin, ...json }, payload: { target: 'n3' } });
  t.same(res.json(), { ok: true, leader: 'n3' }, 'an admin request is forwarded to the leader and its answer relayed');
  t.same(transfers, ['n3']);
  res = await follower.inject({ method: 'POST', url: '/admin/transfer-leadership', headers: { ...testAdmin, ...json, 'x-forwarded-by': 'n3' }, payload: {} });
  t.equal(res.statusCode, 503, 'an already forwarded request is not forwarded again');
});

t.test('status, metrics and health', async (t) => {
  const app = build({ adminToken: testAdminToken, service: localService() });
  t.teardown(() => app.close());
  t.equal((await app.inject({ url: '/status' })).json().role, 'leader');
  const metrics = await app.inject({ url: '/metrics' });
  t.match(metrics.headers['content-type'], /text\/plain/);
  const families = parsePromText(metrics.body);
  t.equal(sampleValue(families, 'consensus_http_requests_total', { replica: 'n1', method: 'GET', route: '/status', status: '200' }), 1);
  t.equal((await app.inject({ url: '/health' })).statusCode, 200);
});

t.test('lease reads and leadership transfer are refused clearly where a protocol lacks them', async (t) => {
  const app = build({ adminToken: testAdminToken, service: localService() });
  t.teardown(() => app.close());
  const lease = await app.inject({ method: 'GET', url: '/kv/k?consistency=lease' });
  t.equal(lease.statusCode, 400);
  t.match(lease.json().error.message, /no lease reads/);
  const transfer = await app.inject({ method: 'POST', url: '/admin/transfer-leadership', headers: { ...testAdmin, ...json }, payload: {} });
  t.equal(transfer.statusCode, 400);
  const badBody = await app.inject({ method: 'POST', url: '/admin/transfer-leadership', headers: { ...testAdmin, ...json }, payload: { target: 5 } });
  t.equal(badBody.statusCode, 400, 'a non-string target is refused');
});

t.test('admin routes refuse a caller without the admin token (401 UNAUTHENTICATED); the key-value API stays open', async (t) => {
  const service = localService();
  let transfers = 0;
  service.transferLeadership = async () => {
    transfers += 1;
    return { leader: 'n1' };
  };
  const app = build({ adminToken: testAdminToken, service });
  t.teardown(() => app.close());
  const transfer = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/admin/transfer-leadership', headers: { ...json, ...headers }, payload: { target: 'n2' } });
  const none = await transfer({});
  t.equal(none.statusCode, 401);
  t.equal(none.json().error.code, 'UNAUTHENTICATED');
  t.match(none.json().error.message, /Authorization: Bearer/, 'it says what to send');
  t.equal((await transfer({ authorization: 'Bearer nope' })).statusCode, 401, 'a wrong token');
  t.equal((await transfer({ authorization: `Basic ${testAdminToken}` })).statusCode, 401, 'not a bearer token');
  t.equal((await transfer({ authorization: adminHeaders('another cluster').authorization })).statusCode, 401, "another cluster's token");
  t.equal(transfers, 0, 'nothing ran');
  t.equal((await transfer(testAdmin)).statusCode, 200, 'the right token');
  t.equal(transfers, 1);
  t.equal((await app.inject({ method: 'GET', url: '/admin/members' })).statusCode, 401, 'an admin route that does not exist here is refused before the 404');
  t.equal((await app.inject({ method: 'PUT', url: '/kv/a', headers: json, payload: { value: 'v' } })).statusCode, 200, 'key-value writes need no token');
  t.equal((await app.inject({ url: '/status' })).statusCode, 200);
});
