import t from 'tap';
import { TcpTransport } from './tcp-transport.js';
import {
  SECRET,
  count,
  get,
  inbox,
  silentLogger,
  startCluster,
  startTransport,
  unusedPort,
  waitFor,
} from './test-support.js';

t.test('three transports exchange messages, in order per sender', async (t) => {
  const ids = ['n1', 'n2', 'n3'];
  const cluster = await startCluster(t, ids);
  const inboxes = new Map(ids.map((id) => [id, inbox(get(cluster, id))]));
  const perPair = 2000;
  let refused = 0;
  for (let seq = 0; seq < perPair; seq++) {
    for (const from of ids) {
      for (const to of ids) {
        if (from === to) continue;
        if (!get(cluster, from).send(to, { type: 'Test', from, seq, blob: new Uint8Array([seq & 0xff, 1, 2]) })) refused += 1;
      }
    }
  }
  t.equal(refused, 0, 'every send accepted');
  await waitFor(
    () => ids.every((to) => ids.every((from) => from === to || count(get(inboxes, to), from) === perPair)),
    'every message delivered',
  );
  for (const to of ids) {
    for (const from of ids) {
      if (from === to) continue;
      const got = get(get(inboxes, to), from) as Array<{ from: string; seq: number; blob: Uint8Array }>;
      t.ok(
        got.every((m, i) => m.seq === i && m.from === from),
        `${from} -> ${to}: ${perPair} messages in order`,
      );
      t.ok(got.every((m) => m.blob instanceof Uint8Array && m.blob[0] === (m.seq & 0xff)), `${from} -> ${to}: bytes intact`);
    }
  }
  const s = get(cluster, 'n1').stats();
  t.equal(s.peers['n2']?.messagesSent, perPair);
  t.equal(s.peers['n2']?.messagesReceived, perPair);
  t.equal(s.peers['n2']?.dropped, 0);
  t.equal(s.peers['n2']?.connected, true);
  t.equal(s.peers['n2']?.inboundConnected, true);
  t.ok((s.peers['n2']?.bytesSent ?? 0) > perPair * 4, 'bytes counted with headers');
  t.equal(s.peers['n2']?.bytesSent, get(cluster, 'n2').stats().peers['n1']?.bytesReceived, 'both ends agree on bytes');
  t.equal(s.rejectedConnections, 0);
  t.equal(s.badFrames, 0);
});

t.test('`from` is the authenticated sender, never a field of the message', async (t) => {
  const cluster = await startCluster(t, ['a', 'b', 'c']);
  const seen: Array<[string, unknown]> = [];
  get(cluster, 'a').onMessage((from, message) => seen.push([from, message]));
  get(cluster, 'b').send('a', { from: 'c', type: 'Spoof' });
  await waitFor(() => seen.length === 1, 'delivery');
  t.equal(seen[0]?.[0], 'b');
});

t.test('messages sent while a peer restarts are delivered once it is back', async (t) => {
  const a = await startTransport(t, 'a');
  const b1 = await startTransport(t, 'b');
  const bAddr = b1.address();
  a.addPeer('b', bAddr);
  b1.addPeer('a', a.address());
  const before = inbox(b1);
  a.send('b', { seq: -1 });
  await waitFor(() => count(before, 'a') === 1, 'first delivery');

  await b1.close();
  await waitFor(() => a.stats().peers['b']?.connected === false, 'a notices b is gone');
  const accepted = Array.from({ length: 200 }, (_, seq) => a.send('b', { seq }));
  t.ok(accepted.every(Boolean), 'sends accepted while b is down');
  t.equal(a.stats().peers['b']?.queuedMessages, 200, 'queued while b is down');

  const b2 = await startTransport(t, 'b', {}, bAddr.port);
  b2.addPeer('a', a.address());
  const after = inbox(b2);
  await waitFor(() => count(after, 'a') === 200, 'queued messages delivered after restart');
  t.same(
    get(after, 'a').map((m) => (m as { seq: number }).seq),
    Array.from({ length: 200 }, (_, i) => i),
    'in order',
  );
  const s = a.stats().peers['b'];
  t.equal(s?.connected, true);
  t.ok((s?.reconnects ?? 0) >= 1, `reconnects counted (${s?.reconnects})`);
  t.equal(s?.dropped, 0);

  // And the other direction works with the restarted replica too.
  const aInbox = inbox(a);
  b2.send('a', 'hello again');
  await waitFor(() => count(aInbox, 'b') === 1, 'b2 -> a');
});

t.test('the queue bound: send returns false and dropped grows; queued messages arrive later', async (t) => {
  const port = await unusedPort();
  const a = await startTransport(t, 'a', { maxQueueMessages: 5 });
  a.addPeer('b', { host: '127.0.0.1', port });
  const results = Array.from({ length: 8 }, (_, seq) => a.send('b', { seq }));
  t.same(results, [true, true, true, true, true, false, false, false]);
  t.equal(a.stats().peers['b']?.dropped, 3);
  t.equal(a.stats().peers['b']?.queuedMessages, 5);
  t.equal(a.stats().peers['b']?.connected, false);

  const b = await startTransport(t, 'b', {}, port);
  b.addPeer('a', a.address());
  const got = inbox(b);
  await waitFor(() => count(got, 'a') === 5, 'the five queued messages');
  t.same(
    get(got, 'a').map((m) => (m as { seq: number }).seq),
    [0, 1, 2, 3, 4],
  );
  t.equal(a.stats().peers['b']?.queuedMessages, 0);
});

t.test('the byte bound of the queue', async (t) => {
  const port = await unusedPort();
  const a = await startTransport(t, 'a', { maxQueueBytes: 1000 });
  a.addPeer('b', { host: '127.0.0.1', port });
  const payload = 'x'.repeat(300);
  const results = Array.from({ length: 5 }, () => a.send('b', payload));
  t.same(results, [true, true, true, false, false], '3 x ~307 bytes fit in 1000');
  t.equal(a.stats().peers['b']?.dropped, 2);
  t.ok((a.stats().peers['b']?.queuedBytes ?? 0) <= 1000);
});

t.test('a message larger than maxFrameBytes is dropped at the sender', async (t) => {
  const cluster = await startCluster(t, ['a', 'b'], { maxFrameBytes: 1000 });
  const a = get(cluster, 'a');
  t.equal(a.send('b', 'x'.repeat(2000)), false);
  t.equal(a.stats().peers['b']?.dropped, 1);
  const got = inbox(get(cluster, 'b'));
  t.equal(a.send('b', 'small'), true);
  await waitFor(() => count(got, 'a') === 1, 'small message still flows');
});

t.test('unknown peers, removePeer and addPeer with a new address', async (t) => {
  const cluster = await startCluster(t, ['a', 'b', 'c']);
  const a = get(cluster, 'a');
  t.equal(a.send('zz', 'x'), false, 'unknown peer');
  t.equal(a.send('a', 'x'), false, 'self is not a peer');

  const bInbox = inbox(get(cluster, 'b'));
  a.send('b', 1);
  await waitFor(() => count(bInbox, 'a') === 1 && get(cluster, 'b').stats().peers['a']?.inboundConnected === true, 'a -> b');

  a.removePeer('b');
  t.equal(a.send('b', 2), false, 'removed peer');
  t.notOk('b' in a.stats().peers, 'stats forget a removed peer');
  await waitFor(() => get(cluster, 'b').stats().peers['a']?.inboundConnected === false, 'b sees the connection from a close');

  // Move c: a second transport named c on another port; a redials there, keeping its queue.
  const cInbox = inbox(get(cluster, 'c'));
  a.send('c', 'before move');
  await waitFor(() => count(cInbox, 'a') === 1, 'a -> c');
  const c2 = await startTransport(t, 'c');
  c2.addPeer('a', a.address());
  const c2Inbox = inbox(c2);
  a.addPeer('c', c2.address());
  a.send('c', 'after move');
  await waitFor(() => count(c2Inbox, 'a') === 1, 'a -> c at its new address');
  t.equal(count(cInbox, 'a'), 1, 'nothing more went to the old address');
});

t.test('pinAddress: a pinned peer is dialed there whatever addPeer says (the fault proxy route)', async (t) => {
  const a = await startTransport(t, 'a');
  const direct = await startTransport(t, 'c');
  const routed = await startTransport(t, 'c');
  for (const c of [direct, routed]) c.addPeer('a', a.address());
  const directInbox = inbox(direct);
  const routedInbox = inbox(routed);
  a.pinAddress('c', routed.address());
  a.addPeer('c', direct.address()); // as a membership change would announce c's own address
  a.send('c', 'first');
  await waitFor(() => count(routedInbox, 'a') === 1, 'a -> c at the pinned address');
  t.equal(count(directInbox, 'a'), 0, 'nothing went to the announced address');
  a.addPeer('c', direct.address());
  a.send('c', 'second');
  await waitFor(() => count(routedInbox, 'a') === 2, 'still the pinned address');
  t.throws(() => a.pinAddress('a', routed.address()), /own address/, 'not its own id');
  t.throws(() => a.pinAddress('c', { host: '', port: 1 }), /bad address/);
});

t.test('a throwing handler does not stop delivery', async (t) => {
  const cluster = await startCluster(t, ['a', 'b']);
  const b = get(cluster, 'b');
  let calls = 0;
  b.onMessage(() => {
    calls += 1;
    throw new Error('replica bug');
  });
  const got = inbox(b);
  for (let i = 0; i < 10; i++) get(cluster, 'a').send('b', i);
  await waitFor(() => count(got, 'a') === 10, 'all ten delivered');
  t.equal(calls, 10);
  t.equal(b.stats().peers['a']?.inboundConnected, true, 'connection kept');
});

t.test('start and close misuse', async (t) => {
  const a = new TcpTransport({ id: 'a', listen: { host: '127.0.0.1', port: 0 }, peers: {}, secret: SECRET, logger: silentLogger() });
  await a.close();
  await a.close();
  await t.rejects(a.start(), 'start after close');
  t.equal(a.send('b', 1), false);

  const b = await startTransport(t, 'b');
  await t.rejects(b.start(), 'start twice');
  const clash = new TcpTransport({ id: 'c', listen: b.address(), peers: {}, secret: SECRET, logger: silentLogger() });
  await t.rejects(clash.start(), { code: 'EADDRINUSE' }, 'port in use');
  await clash.close();

  t.throws(
    () => new TcpTransport({ id: '', listen: { host: '127.0.0.1', port: 0 }, peers: {}, secret: SECRET, logger: silentLogger() }),
    RangeError,
  );
  t.throws(
    () =>
      new TcpTransport({ id: 'a', listen: { host: '127.0.0.1', port: 0 }, peers: {}, secret: SECRET, logger: silentLogger(), maxQueueMessages: 0 }),
    RangeError,
  );
  t.throws(() => b.addPeer('x', { host: '127.0.0.1', port: 70_000 }), RangeError, 'bad port refused up front');
  t.throws(() => b.addPeer('x', { host: '', port: 7000 }), RangeError, 'empty host refused');
});
