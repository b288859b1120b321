import t from 'tap';
import { build } from '../http/app.js';
import type { KvService } from '../http/kv-service.js';
import type { RaftStatus } from '../../protocols/raft/types.js';
import type { RaftDebugState } from './debug-state.js';
import { enableDebugApi } from './enable-debug-api.js';
import { raftDebugState } from './raft-debug-state.js';
import { testAdmin, testAdminToken } from '../http/admin-test-support.js';

const service: KvService = {
  id: 'n1',
  protocol: 'raft',
  leader: () => 'n1',
  httpUrlOf: () => null,
  execute: async () => ({ kind: 'put' }) as never,
  readLinearizable: async () => null,
  readStale: () => null,
  status: () => ({ id: 'n1' }),
  healthy: () => true,
};

const state: RaftDebugState = raftDebugState(
  {
    status: () => ({ id: 'n1', role: 'leader', term: 3, leader: 'n1', votedFor: 'n1', commitIndex: 24, lastLogIndex: 25, lastLogTerm: 3, snapshotIndex: 2, progress: null, transferTarget: null }) as RaftStatus,
    entryAt: (i) => ({ index: i, term: i < 20 ? 2 : 3, kind: i === 20 ? 'noop' : 'command', data: null }),
  },
  23,
);

t.test('the raft debug state carries the last 20 entries with their terms', async (t) => {
  t.equal(state.log.length, 20);
  t.same(state.log[0], { index: 6, term: 2, kind: 'command' });
  t.same(state.log.at(-1), { index: 25, term: 3, kind: 'command' });
  t.match(state, { protocol: 'raft', role: 'leader', epoch: 3, epochLabel: 'term 3', commitIndex: 24, appliedIndex: 23 });
});

t.test('without --debug-api the debug routes do not exist', async (t) => {
  const app = build({ adminToken: testAdminToken, service });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', headers: testAdmin, url: '/admin/debug/state' });
  t.equal(res.statusCode, 404);
  t.equal((await app.inject({ method: 'GET', headers: testAdmin, url: '/admin/debug/messages' })).statusCode, 404);
});

t.test('with --debug-api: state and sampled messages', async (t) => {
  const transport = { tap: null as null | ((dir: 'send' | 'recv', peer: string, m: unknown) => void) };
  const debug = enableDebugApi('n1', { debugState: () => state }, transport);
  const app = build({ adminToken: testAdminToken, service, debug });
  t.teardown(() => app.close());
  t.same((await app.inject({ method: 'GET', headers: testAdmin, url: '/admin/debug/state' })).json(), state);
  transport.tap?.('send', 'n2', { type: 'AppendEntries' });
  transport.tap?.('recv', 'n2', { type: 'AppendEntriesResponse' });
  const body = (await app.inject({ method: 'GET', headers: testAdmin, url: '/admin/debug/messages?since=1' })).json();
  t.match(body, { id: 'n1', seq: 2, messages: [{ seq: 2, from: 'n2', to: 'n1', type: 'AppendEntriesResponse', dir: 'recv' }] });
  t.equal((await app.inject({ method: 'GET', headers: testAdmin, url: '/admin/debug/messages?since=x' })).statusCode, 400);
});

t.test('a runtime without a debug state answers 404 on /state, messages still work', async (t) => {
  const app = build({ adminToken: testAdminToken, service, debug: enableDebugApi('n1', {}, { tap: null }) });
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', headers: testAdmin, url: '/admin/debug/state' })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', headers: testAdmin, url: '/admin/debug/messages' })).statusCode, 200);
});

t.test('PUT /admin/debug/dial/:id pins where the transport dials a peer', async (t) => {
  const pinned: Array<[string, { host: string; port: number }]> = [];
  const transport = { tap: null, pinAddress: (id: string, addr: { host: string; port: number }) => void pinned.push([id, addr]) };
  const app = build({ adminToken: testAdminToken, service, debug: enableDebugApi('n1', {}, transport) });
  t.teardown(() => app.close());
  const put = (url: string, payload: unknown) => app.inject({ method: 'PUT', headers: testAdmin, url, payload: payload as Record<string, unknown> });
  const res = await put('/admin/debug/dial/n4', { host: '127.0.0.1', port: 40123 });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { id: 'n4', host: '127.0.0.1', port: 40123 });
  t.same(pinned, [['n4', { host: '127.0.0.1', port: 40123 }]]);
  t.equal((await put('/admin/debug/dial/n4', { host: '127.0.0.1', port: 0 })).statusCode, 400, 'port 0');
  t.equal((await put('/admin/debug/dial/n4', { host: '127.0.0.1' })).statusCode, 400, 'no port');
  t.equal((await put('/admin/debug/dial/n4', { host: 'h', port: '1' })).statusCode, 400, 'a port that is a string');
  t.equal((await put('/admin/debug/dial/n%20 4', { host: 'h', port: 1 })).statusCode, 400, 'bad id');
  t.equal(pinned.length, 1, 'bad requests pin nothing');
  const plain = build({ adminToken: testAdminToken, service });
  t.teardown(() => plain.close());
  t.equal((await plain.inject({ method: 'PUT', headers: testAdmin, url: '/admin/debug/dial/n4', payload: { host: 'h', port: 1 } })).statusCode, 404, 'not without --debug-api');
});

t.test('POST /admin/debug/block-event-loop stalls the loop for ms milliseconds, only with --debug-api', async (t) => {
  const app = build({ adminToken: testAdminToken, service, debug: enableDebugApi('n1', {}, { tap: null }) });
  t.teardown(() => app.close());
  const post = (payload: unknown) => app.inject({ method: 'POST', headers: testAdmin, url: '/admin/debug/block-event-loop', payload: payload as Record<string, unknown> });
  const started = performance.now();
  const res = await post({ ms: 60 });
  t.equal(res.statusCode, 200);
  t.ok(res.json().blockedMs >= 60, `blocked ${res.json().blockedMs} ms`);
  t.ok(performance.now() - started >= 60, 'the request took as long');
  for (const bad of [{ ms: 0 }, { ms: 5001 }, { ms: 1.5 }, { ms: '10' }, {}]) {
    t.equal((await post(bad)).statusCode, 400, `refused: ${JSON.stringify(bad)}`);
  }
  const plain = build({ adminToken: testAdminToken, service });
  t.teardown(() => plain.close());
  t.equal((await plain.inject({ method: 'POST', headers: testAdmin, url: '/admin/debug/block-event-loop', payload: { ms: 10 } })).statusCode, 404, 'not without --debug-api');
});
