import t from 'tap';
import type { KvResult } from '../../protocols/kv/commands.js';
import { ServiceError } from '../http/errors.js';
import { build } from '../http/app.js';
import { PbftKvService, type GatewayRequest, type PbftGatewayPort } from './pbft-kv-service.js';
import { pbftRoutes } from './pbft-routes.js';
import { testAdminToken } from '../http/admin-test-support.js';

/** A fake runtime: records what the gateway hands the core; the test plays the replicas. */
class FakePort implements PbftGatewayPort {
  readonly id = 'n1';
  readonly n = 4;
  readonly self = 0;
  readonly f = 1;
  submitted: GatewayRequest[] = [];
  readOnlyAsked: GatewayRequest[] = [];
  refuse = false;
  state = new Map<string, string>();
  submit(request: GatewayRequest, overloaded: () => void): void {
    this.submitted.push(request);
    if (this.refuse) overloaded();
  }
  readOnly(request: GatewayRequest): void {
    this.readOnlyAsked.push(request);
  }
  readLocal(key: string): string | null {
    return this.state.get(key) ?? null;
  }
  primaryId(): string {
    return 'n1';
  }
  httpUrlOf(): null {
    return null;
  }
  status(): Record<string, unknown> {
    return { id: 'n1', protocol: 'pbft', view: 0 };
  }
  debugState(): never {
    throw new Error('not in this test');
  }
  healthy(): boolean {
    return true;
  }
  async shutdown(): Promise<void> {}
}

const limits = { requestTimeoutMs: 400, readOnlyTimeoutMs: 150, maxPendingRequests: 3, retransmitMs: 100 };
const put: KvResult = { kind: 'put' };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
async function waitFor(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

function setup() {
  const port = new FakePort();
  const service = new PbftKvService(port, limits);
  const timer = setInterval(() => service.sweep(Date.now()), 10);
  t.teardown(() => {
    clearInterval(timer);
    return service.close();
  });
  return { port, service };
}

t.test('a write is answered on f+1 matching replies, its own execution counting as one (OSDI §4.1)', async (t) => {
  const { port, service } = setup();
  let answered: KvResult | null = null;
  const p = service.execute({ operation: { op: 'put', key: 'k', value: 'v' }, session: null }).then((r) => (answered = r));
  await tick();
  const req = port.submitted[0]!;
  t.equal(req.origin, 0, 'origin is this replica');
  service.executed(req, put, 1);
  await tick();
  t.equal(answered, null, 'one reply (its own) is not enough');
  service.reply(2, req.clientId, req.seq, { kind: 'delete', existed: true });
  await tick();
  t.equal(answered, null, 'a non-matching reply does not count');
  service.reply(3, req.clientId, req.seq, put);
  t.same(await p, put, 'f+1 = 2 matching replies');
});

t.test('a wrong result needs f+1 replicas behind it; duplicates from one replica count once', async (t) => {
  const { port, service } = setup();
  const p = service.execute({ operation: { op: 'delete', key: 'k' }, session: { clientId: 'c1', seq: 7 } });
  await tick();
  const req = port.submitted[0]!;
  t.same([req.clientId, req.seq], ['c1', 7], 'x-client-id/x-request-seq become the PBFT client id and timestamp');
  const wrong: KvResult = { kind: 'delete', existed: false };
  service.reply(1, 'c1', 7, wrong);
  service.reply(1, 'c1', 7, wrong);
  service.reply(2, 'c1', 7, { kind: 'delete', existed: true });
  service.executed(req, { kind: 'delete', existed: true }, 3);
  t.same(await p, { kind: 'delete', existed: true });
});

t.test('unanswered requests are resent with the same (client, seq), then time out', async (t) => {
  const { port, service } = setup();
  const p = service.execute({ operation: { op: 'put', key: 'k', value: 'v' }, session: null });
  const err = await p.catch((e: unknown) => e);
  t.ok(err instanceof ServiceError && err.code === 'TIMEOUT', 'TIMEOUT: outcome unknown');
  t.ok(port.submitted.length >= 2, `resent (${port.submitted.length} submissions)`);
  t.ok(port.submitted.every((r) => r.clientId === port.submitted[0]!.clientId && r.seq === port.submitted[0]!.seq), 'same tag every time');
});

t.test('OVERLOADED when the core refuses or too many requests wait', async (t) => {
  const { port, service } = setup();
  port.refuse = true;
  const refused = await service.execute({ operation: { op: 'put', key: 'k', value: 'v' }, session: null }).catch((e: unknown) => e);
  t.ok(refused instanceof ServiceError && refused.code === 'OVERLOADED');
  port.refuse = false;
  const waiting = [1, 2, 3].map((i) => service.execute({ operation: { op: 'put', key: `k${i}`, value: 'v' }, session: null }).catch(() => null));
  const over = await service.execute({ operation: { op: 'put', key: 'x', value: 'v' }, session: null }).catch((e: unknown) => e);
  t.ok(over instanceof ServiceError && over.code === 'OVERLOADED', 'beyond maxPendingRequests');
  await Promise.all(waiting);
});

t.test('reads: 2f+1 matching read-only replies, else the ordered path (OSDI §5.1.3)', async (t) => {
  const { port, service } = setup();
  const fast = service.readLinearizable('k');
  await tick();
  const ro = port.readOnlyAsked[0]!;
  for (const from of [0, 1, 2]) service.readReply(from, ro.clientId, ro.seq, { kind: 'get', value: 'v1' });
  t.equal(await fast, 'v1', 'three matching read-only replies');
  t.equal(port.submitted.length, 0, 'nothing ordered');

  const slow = service.readLinearizable('k');
  await tick();
  const ro2 = port.readOnlyAsked[1]!;
  service.readReply(0, ro2.clientId, ro2.seq, { kind: 'get', value: 'v1' });
  service.readReply(1, ro2.clientId, ro2.seq, { kind: 'get', value: 'v2' });
  service.readReply(2, ro2.clientId, ro2.seq, { kind: 'get', value: null });
  await tick();
  t.equal(port.submitted.length, 1, 'disagreement: the read is ordered at once');
  const ordered = port.submitted[0]!;
  t.same(ordered.operation, { op: 'get', key: 'k' });
  service.executed(ordered, { kind: 'get', value: 'v2' }, 9);
  service.reply(3, ordered.clientId, ordered.seq, { kind: 'get', value: 'v2' });
  t.equal(await slow, 'v2');

  const silent = service.readLinearizable('k');
  await waitFor(() => port.submitted.length === 2);
  t.equal(port.submitted.length, 2, 'no quorum within readOnlyTimeoutMs: ordered');
  const o2 = port.submitted[1]!;
  service.executed(o2, { kind: 'get', value: null }, 10);
  service.reply(1, o2.clientId, o2.seq, { kind: 'get', value: null });
  t.equal(await silent, null);
});

t.test('stale reads are local', async (t) => {
  const { port, service } = setup();
  port.state.set('k', 'local');
  t.equal(service.readStale('k'), 'local');
});

t.test('the library routes answer with this replica\'s own result', async (t) => {
  const { port, service } = setup();
  const app = build({ adminToken: testAdminToken, service });
  await app.register(pbftRoutes, { service });
  t.teardown(() => app.close());
  const pending = app.inject({ method: 'POST', url: '/pbft/request', payload: { clientId: 'lib', seq: 1, operation: { op: 'put', key: 'a', value: 'b' } } });
  await waitFor(() => port.submitted.length > 0);
  const req = port.submitted.at(-1)!;
  t.equal(req.origin, -1, 'library requests have origin -1');
  service.executed(req, put, 5);
  const res = await pending;
  t.equal(res.statusCode, 200);
  t.same(res.json(), { replica: 'n1', index: 0, sequence: 5, result: put });

  const read = app.inject({ method: 'POST', url: '/pbft/read', payload: { clientId: 'lib', seq: 2, key: 'a' } });
  await waitFor(() => port.readOnlyAsked.length > 0);
  const ro = port.readOnlyAsked.at(-1)!;
  service.readReply(0, ro.clientId, ro.seq, { kind: 'get', value: 'b' });
  t.same((await read).json(), { replica: 'n1', index: 0, result: { kind: 'get', value: 'b' } });

  for (const payload of [
    { clientId: 'lib', seq: 0, operation: { op: 'put', key: 'a', value: 'b' } },
    { clientId: 'lib', seq: 3, operation: { op: 'cas', key: 'a', value: 'b' } },
    { clientId: 'lib', seq: 3, operation: { op: 'rm', key: 'a' } },
    { clientId: '', seq: 3, operation: { op: 'get', key: 'a' } },
    'not json at all',
  ]) {
    const bad = await app.inject({ method: 'POST', url: '/pbft/request', payload: payload as object });
    t.equal(bad.statusCode, 400, `refused: ${JSON.stringify(payload)}`);
  }
});
