/**
 * The library client against four fake replicas (plain HTTP servers playing each replica's
 * /pbft routes), so its acceptance rule is tested apart from the protocol: f+1 matching results
 * on the ordered path, 2f+1 on the read-only path, retries with the same (clientId, seq).
 */
import t from 'tap';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KvResult } from '../../protocols/kv/commands.js';
import { PbftClient, PbftClientError } from './pbft-client.js';

type Behaviour = (path: string, body: { clientId: string; seq: number }) => { status: number; result?: KvResult } | 'hang';

interface Fake {
  url: string;
  seen: Array<{ path: string; clientId: string; seq: number }>;
  behave: Behaviour;
}

async function readBody(req: IncomingMessage): Promise<{ clientId: string; seq: number }> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return JSON.parse(text) as { clientId: string; seq: number };
}

async function fakeReplicas(n: number): Promise<Fake[]> {
  const fakes: Fake[] = [];
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) {
    const fake: Fake = { url: '', seen: [], behave: () => ({ status: 200, result: { kind: 'put' } }) };
    const server = createServer((req, res) => {
      void readBody(req).then((body) => {
        fake.seen.push({ path: req.url ?? '', clientId: body.clientId, seq: body.seq });
        const answer = fake.behave(req.url ?? '', body);
        if (answer === 'hang') return;
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ replica: `n${i + 1}`, index: i, result: answer.result }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fakes.push(fake);
    servers.push(server);
  }
  t.teardown(() => Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); }))));
  return fakes;
}

const client = (fakes: Fake[], extra: Partial<ConstructorParameters<typeof PbftClient>[0]> = {}) =>
  new PbftClient({ replicas: fakes.map((f) => f.url), clientId: 'c', attemptTimeoutMs: 300, retryDelayMs: 20, timeoutMs: 3000, readOnlyTimeoutMs: 400, ...extra });

t.test('accepts a result once f+1 replicas agree, whatever the others say', async (t) => {
  const fakes = await fakeReplicas(4);
  fakes[0]!.behave = () => ({ status: 200, result: { kind: 'delete', existed: false } }); // a Byzantine replica
  fakes[1]!.behave = () => 'hang';
  fakes[2]!.behave = () => ({ status: 200, result: { kind: 'delete', existed: true } });
  fakes[3]!.behave = () => ({ status: 200, result: { kind: 'delete', existed: true } });
  t.equal(await client(fakes).delete('k'), true);
  t.ok(fakes.every((f) => f.seen[0]?.path === '/pbft/request'), 'the request went to every replica');
});

t.test('one wrong replica alone is never accepted', async (t) => {
  const fakes = await fakeReplicas(4);
  fakes[0]!.behave = () => ({ status: 200, result: { kind: 'get', value: 'forged' } });
  for (const f of fakes.slice(1)) f.behave = () => 'hang';
  const err = await client(fakes, { timeoutMs: 800 }).execute({ op: 'get', key: 'k' }).catch((e: unknown) => e);
  t.ok(err instanceof PbftClientError && err.code === 'TIMEOUT', 'no f+1 match: TIMEOUT, not the forged value');
});

t.test('replicas that fail are asked again with the same (clientId, seq)', async (t) => {
  const fakes = await fakeReplicas(4);
  let failures = 0;
  for (const f of fakes) f.behave = () => (failures++ < 6 ? { status: 504 } : { status: 200, result: { kind: 'put' } });
  const c = client(fakes);
  await c.put('k', 'v');
  await c.put('k', 'w');
  const first = fakes.flatMap((f) => f.seen).filter((s) => s.seq === 1);
  t.ok(first.length > 4, `retried (${first.length} attempts for seq 1)`);
  t.ok(first.every((s) => s.clientId === 'c'), 'same client id');
  t.ok(fakes.flatMap((f) => f.seen).some((s) => s.seq === 2), 'the next request has the next timestamp');
});

t.test('reads: 2f+1 matching read-only answers, else the ordered path', async (t) => {
  const fakes = await fakeReplicas(4);
  const answer = (value: string | null) => (path: string) =>
    ({ status: 200, result: path === '/pbft/read' ? { kind: 'get' as const, value } : { kind: 'get' as const, value: 'ordered' } });
  fakes[0]!.behave = answer('a');
  fakes[1]!.behave = answer('a');
  fakes[2]!.behave = answer('a');
  fakes[3]!.behave = answer('b');
  t.equal(await client(fakes).get('k'), 'a', '3 of 4 agree on the read-only path');
  fakes[2]!.behave = answer('b');
  t.equal(await client(fakes).get('k'), 'ordered', '2-2: fall back to ordering the read');
  t.ok(fakes[0]!.seen.some((s) => s.path === '/pbft/request'), 'the fallback is a /pbft/request');
});

t.test('needs at least 4 replicas', async (t) => {
  t.throws(() => new PbftClient({ replicas: ['http://a', 'http://b', 'http://c'] }));
});
