/**
 * The fault proxy against echo servers: pass, blackhole, refuse, delay with jitter, bandwidth,
 * partition shapes, and close() leaving nothing open.
 */
import t, { type Test } from 'tap';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { SeededRng } from '../../protocols/common/rng.js';
import { until } from '../client/kv-client.js';
import { FaultProxy } from './fault-proxy.js';
import { bridge, halves, isolate, ring } from './partition-shapes.js';

interface Echo {
  server: Server;
  port: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

async function echoServer(): Promise<Echo> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A client socket with helpers to read what came back and to see whether it closed. */
interface Client {
  socket: Socket;
  received: () => string;
  closed: () => boolean;
  write: (text: string) => void;
  waitFor: (text: string, timeoutMs?: number) => Promise<number>;
}

function client(address: string): Promise<Client> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: host!, port: Number(port) });
    let data = '';
    let closed = false;
    socket.on('data', (b) => (data += b.toString()));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed: () => closed,
        write: (text) => socket.write(text),
        waitFor: async (text, timeoutMs = 3000) => {
          const start = performance.now();
          while (!data.includes(text)) {
            if (performance.now() - start > timeoutMs) throw new Error(`no ${JSON.stringify(text)} in ${timeoutMs} ms (got ${JSON.stringify(data)})`);
            if (closed) throw new Error(`closed before ${JSON.stringify(text)}`);
            await sleep(2);
          }
          return performance.now() - start;
        },
      }),
    );
    socket.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Returns once `condition` holds (socket events may lag on a loaded machine); throws after 5 s. */
const eventually = (condition: () => boolean, what: string): Promise<boolean> => until(async () => condition(), (ok) => ok, 5000, what);

async function setup(t: Test, ids = ['n1', 'n2']) {
  const echoes = await Promise.all(ids.map(() => echoServer()));
  const targets = Object.fromEntries(ids.map((id, i) => [id, { host: '127.0.0.1', port: echoes[i]!.port }]));
  const proxy = await FaultProxy.start({ ids, targets, rng: new SeededRng(1) });
  const clients: Client[] = [];
  const open = async (from: string, to: string) => {
    const c = await client(proxy.dial(from, to)!);
    clients.push(c);
    return c;
  };
  t.teardown(async () => {
    for (const c of clients) c.socket.destroy();
    await proxy.close();
    await Promise.all(echoes.map((e) => e.close()));
  });
  return { proxy, echoes, open };
}


t.test('pass forwards both ways to the right peer', async (t) => {
  const { proxy, echoes, open } = await setup(t);
  const c = await open('n1', 'n2');
  c.write('hello');
  await c.waitFor('hello');
  t.equal(echoes[1]!.sockets.size, 1, 'the connection reached n2');
  t.equal(echoes[0]!.sockets.size, 0, 'not n1');
  t.equal(proxy.link('n1', 'n2').openConnections, 1);
  t.not(proxy.dial('n1', 'n2'), proxy.dial('n2', 'n1'), 'one listener per directed link');
});

t.test('blackhole: existing and new connections go silent in both directions, heal closes them', async (t) => {
  const { proxy, open } = await setup(t);
  const c = await open('n1', 'n2');
  c.write('a');
  await c.waitFor('a');
  proxy.cut('n1', 'n2');
  c.write('bbb');
  await sleep(200);
  t.equal(c.received(), 'a', 'nothing comes back');
  t.notOk(c.closed(), 'but the connection stays open');
  const fresh = await open('n1', 'n2');
  fresh.write('ccc');
  await sleep(200);
  t.equal(fresh.received(), '', 'a new connection is accepted and silent');
  await eventually(() => proxy.link('n1', 'n2').counters.discardedBytes >= 6, 'bytes were discarded');
  proxy.healPartitions();
  await eventually(() => c.closed() && fresh.closed(), 'connections that lost bytes are closed on heal');
  const after = await open('n1', 'n2');
  after.write('again');
  await after.waitFor('again');
  t.pass('a new connection after heal works');
});

t.test('blackhole is per direction of the link: other links keep working', async (t) => {
  const { proxy, open } = await setup(t);
  proxy.setMode([['n1', 'n2']], 'blackhole');
  const other = await open('n2', 'n1');
  other.write('x');
  await other.waitFor('x');
  t.pass('n2→n1 still passes');
});

t.test('refuse: existing connections are reset, new ones are refused', async (t) => {
  const { proxy, open } = await setup(t);
  const c = await open('n1', 'n2');
  c.write('a');
  await c.waitFor('a');
  proxy.cut('n1', 'n2', 'refuse');
  await eventually(() => c.closed(), 'existing connection closed');
  // Depending on timing the reset arrives during or right after the connect.
  const fresh = await open('n1', 'n2').catch(() => null);
  await eventually(() => fresh === null || fresh.closed(), 'a new connection is reset at once');
  t.equal(proxy.link('n1', 'n2').counters.refused, 1);
  proxy.heal();
  const after = await open('n1', 'n2');
  after.write('b');
  await after.waitFor('b');
});

t.test('delay with jitter applies in each direction and keeps byte order', async (t) => {
  const { proxy, open } = await setup(t);
  proxy.shape(proxy.allLinks(), { delayMs: 60, jitterMs: 40 });
  const c = await open('n1', 'n2');
  const start = performance.now();
  for (let i = 0; i < 20; i++) c.write(`<${i}>`);
  const expected = Array.from({ length: 20 }, (_, i) => `<${i}>`).join('');
  await c.waitFor(expected);
  const ms = performance.now() - start;
  t.ok(ms >= 115, `round trip ${ms.toFixed(0)} ms is at least twice the delay`);
  t.equal(c.received(), expected, 'order kept despite jitter');
  proxy.clearShaping();
  // Shaped, a round trip takes at least 2 × (60 - 40) = 40 ms. The fastest of five unshaped ones
  // must be well under that (the fastest: one scheduling hiccup on a loaded machine is no delay).
  const trips: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    c.write(`fast${i};`);
    await c.waitFor(`fast${i};`);
    trips.push(performance.now() - before);
  }
  t.ok(Math.min(...trips) < 20, `no delay after clearShaping (fastest round trip ${Math.min(...trips).toFixed(1)} ms)`);
});

t.test('bandwidth limit slows a link down', async (t) => {
  const { proxy, open } = await setup(t);
  proxy.shape([['n1', 'n2']], { bandwidthBytesPerSec: 200_000 });
  const c = await open('n1', 'n2');
  const payload = 'x'.repeat(60_000) + 'END';
  const start = performance.now();
  c.write(payload);
  await c.waitFor('END', 5000);
  const ms = performance.now() - start;
  // 60 kB at 200 kB/s, once each way: about 600 ms.
  t.ok(ms >= 500, `60 kB took ${ms.toFixed(0)} ms`);
});

t.test('close() closes every socket and listener', async (t) => {
  const ids = ['n1', 'n2', 'n3'];
  const echoes = await Promise.all(ids.map(() => echoServer()));
  t.teardown(() => Promise.all(echoes.map((e) => e.close())));
  const targets = Object.fromEntries(ids.map((id, i) => [id, { host: '127.0.0.1', port: echoes[i]!.port }]));
  const proxy = await FaultProxy.start({ ids, targets });
  const c1 = await client(proxy.dial('n1', 'n2')!);
  c1.write('a');
  await c1.waitFor('a');
  const c2 = await client(proxy.dial('n3', 'n1')!);
  proxy.cut('n3', 'n1');
  const address = proxy.dial('n2', 'n3')!;
  await proxy.close();
  await eventually(() => c1.closed() && c2.closed(), 'client sockets closed');
  await eventually(() => echoes[1]!.sockets.size === 0, 'upstream sockets closed');
  await t.rejects(client(address), 'listeners closed');
});

t.test('partition shapes', async (t) => {
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const rng = new SeededRng(3);
  const iso = isolate(ids, 'n2');
  t.equal(iso.cut.length, 8, 'isolate cuts 4 links each way');
  t.ok(iso.cut.every(([a, b]) => a === 'n2' || b === 'n2'));
  const h = halves(ids, rng);
  t.equal(h.cut.length, 12, '2 | 3 cuts 2*3 links each way');
  const br = bridge(ids, rng);
  t.equal(br.cut.length, 8, 'bridge: 2 and 2 nodes cut from each other, each way');
  const r = ring(ids, rng);
  t.equal(r.cut.length, 10, 'ring of 5: each node loses 2 of its 4 peers');
  const three = bridge(['n1', 'n2', 'n3'], new SeededRng(1));
  t.equal(three.cut.length, 2, 'bridge of 3 cuts one pair');
  const { proxy } = await setup(t, ['n1', 'n2', 'n3']);
  const shape = proxy.isolate('n3');
  t.equal(proxy.link('n1', 'n3').mode, 'blackhole');
  t.equal(proxy.link('n3', 'n2').mode, 'blackhole');
  t.equal(proxy.link('n1', 'n2').mode, 'pass');
  t.equal(shape.description, 'n3 | n1 n2');
  proxy.heal();
  t.ok(proxy.allLinks().every(([a, b]) => proxy.link(a, b).mode === 'pass'));
  t.ok(proxy.events.length >= 2, 'link changes are logged');
});

t.test('addNode and removeNode: links for a replica that joins later, closed when it leaves', async (t) => {
  const { proxy, open } = await setup(t);
  const joiner = await echoServer();
  t.teardown(() => joiner.close());
  t.equal(proxy.dial('n1', 'n3'), undefined, 'no link before the node is added');
  await proxy.addNode('n3', { host: '127.0.0.1', port: joiner.port });
  t.same(proxy.ids, ['n1', 'n2', 'n3']);
  const c = await open('n1', 'n3');
  c.write('joined');
  await c.waitFor('joined');
  t.equal(joiner.sockets.size, 1, 'the new link reaches the new node');
  t.ok(proxy.dial('n3', 'n2') !== undefined, 'and it has links to the others');
  proxy.isolate('n3');
  t.equal(proxy.link('n2', 'n3').mode, 'blackhole', 'partition shapes include it');
  proxy.healPartitions();
  await t.rejects(proxy.addNode('n3', { host: '127.0.0.1', port: joiner.port }), /already/, 'added once');
  const address = proxy.dial('n2', 'n3')!;
  await proxy.removeNode('n3');
  t.same(proxy.ids, ['n1', 'n2']);
  t.equal(proxy.dial('n1', 'n3'), undefined, 'its links are gone');
  await eventually(() => c.closed(), 'its connections are closed');
  await t.rejects(client(address), 'its listeners are closed');
  t.match(proxy.events.map((e) => e.change), ['add n3', 'blackhole isolate', 'heal partitions', 'remove n3'].map((x) => new RegExp(x)));
});
