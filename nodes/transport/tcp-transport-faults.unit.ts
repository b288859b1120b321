/**
 * Hostile and broken peers: each one must cost only its own connection, be counted and logged
 * with its remote address, and leave the transport delivering messages from real peers.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { FrameDecoder, FrameEncoder, PayloadDecoder } from './frame-codec.js';
import { hello, newNonce, parseChallenge, parseWelcome } from './handshake.js';
import type { TcpTransport } from './tcp-transport.js';
import { SECRET, captureLogger, count, get, inbox, startTransport, unusedPort, waitFor, type Overrides } from './test-support.js';
import type { PeerAddress } from './types.js';

type LogLines = Array<Record<string, unknown>>;

const encoder = new FrameEncoder();

/** A hand-driven client socket that records the frames the server sends it. */
interface RawClient {
  socket: Socket;
  frames: unknown[];
  closed: () => boolean;
}

async function rawConnect(t: Test, addr: PeerAddress): Promise<RawClient> {
  const socket = connect(addr.port, addr.host);
  t.teardown(() => void socket.destroy());
  const frames: unknown[] = [];
  const decoder = new FrameDecoder(1 << 20);
  const payloads = new PayloadDecoder();
  let isClosed = false;
  socket.on('data', (chunk: Buffer) =>
    decoder.push(chunk, (payload) => {
      frames.push(payloads.decode(payload));
      return true;
    }),
  );
  socket.on('error', () => {});
  socket.on('close', () => (isClosed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, frames, closed: () => isClosed };
}

/** Completes a real handshake as `id` and returns the authenticated socket. */
async function authenticate(t: Test, addr: PeerAddress, id: string, secret = SECRET): Promise<RawClient> {
  const client = await rawConnect(t, addr);
  await waitFor(() => client.frames.length >= 1, 'challenge');
  const challenge = parseChallenge(client.frames[0]);
  if (challenge === undefined) throw new Error('no challenge');
  client.socket.write(encoder.encode(hello(secret, challenge.nonce, newNonce(), id)));
  await waitFor(() => client.frames.length >= 2 || client.closed(), 'welcome');
  if (parseWelcome(client.frames[1]) === undefined) throw new Error('not welcomed');
  return client;
}

function header(length: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(length, 0);
  return h;
}

/** The victim `a` (whose logs we read) and a well-behaved peer `b`. */
async function twoNodes(t: Test, overrides: Overrides = {}): Promise<{ a: TcpTransport; b: TcpTransport; lines: LogLines }> {
  const { logger, lines } = captureLogger();
  const a = await startTransport(t, 'a', { logger, ...overrides });
  const b = await startTransport(t, 'b', overrides);
  a.addPeer('b', b.address());
  b.addPeer('a', a.address());
  return { a, b, lines };
}

/** The transport survived: b's messages still reach a. */
async function stillDelivers(t: Test, b: TcpTransport, a: TcpTransport): Promise<void> {
  const got = inbox(a);
  b.send('a', { probe: true });
  await waitFor(() => count(got, 'b') >= 1, 'a real peer still gets through');
  t.pass('messages from the real peer are still delivered');
}

t.test('garbage bytes close the connection, are counted and logged', async (t) => {
  const { a, b, lines } = await twoNodes(t);
  const huge = await rawConnect(t, a.address());
  huge.socket.write(Buffer.alloc(64, 0xff)); // header announces a 4 GiB frame
  const junk = await rawConnect(t, a.address());
  junk.socket.write(Buffer.concat([header(12), Buffer.from('not msgpack!')]));
  const wellFormedButWrong = await rawConnect(t, a.address());
  wellFormedButWrong.socket.write(encoder.encode({ type: 'hello', id: 'b' }));
  await waitFor(() => huge.closed() && junk.closed() && wellFormedButWrong.closed(), 'all three closed by a');
  await waitFor(() => a.stats().rejectedConnections === 3, 'three rejections counted');
  t.ok(a.stats().badFrames >= 2, 'oversized and undecodable frames counted');
  const warnings = lines.filter((l) => l['msg'] === 'rejected inbound connection');
  t.equal(warnings.length, 3, 'each rejection logged');
  t.ok(warnings.every((l) => l['level'] === 40 && l['remoteAddress'] === '127.0.0.1' && typeof l['remotePort'] === 'number'), 'as warnings with the remote address');
  await stillDelivers(t, b, a);
});

t.test('a refused client learns it at once, even if it never reads', async (t) => {
  const { a } = await twoNodes(t);
  const socket = connect(a.address().port, '127.0.0.1'); // no 'data' listener: a FIN would go unnoticed
  t.teardown(() => void socket.destroy());
  socket.on('error', () => {});
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.write(Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
  await waitFor(() => closed, 'the refused client sees its connection reset', 5000);
  t.equal(a.stats().rejectedConnections, 1);
});

t.test('a connection that never completes the handshake times out', async (t) => {
  const { a, b } = await twoNodes(t, { handshakeTimeoutMs: 200 });
  const silent = await rawConnect(t, a.address());
  await waitFor(() => silent.closed(), 'silent client dropped', 5000);
  t.equal(a.stats().rejectedConnections, 1);
  t.equal(silent.frames.length, 1, 'it got the challenge and nothing else');
  await stillDelivers(t, b, a);
});

t.test('a wrong secret is refused, and nothing gets through', async (t) => {
  const { a, b, lines } = await twoNodes(t);
  const intruder = await startTransport(t, 'c', { secret: 'not-the-secret' });
  a.addPeer('c', intruder.address()); // c is a member by name, but cannot prove the secret
  intruder.addPeer('a', a.address());
  intruder.send('a', 'let me in');
  await waitFor(() => a.stats().rejectedConnections >= 2, 'at least two refused attempts (it keeps redialing)');
  t.equal(intruder.stats().peers['a']?.connected, false);
  t.equal(intruder.stats().peers['a']?.messagesSent, 0);
  t.equal(a.stats().peers['c']?.messagesReceived, 0);
  t.ok(lines.some((l) => l['reason'] === 'bad handshake mac (wrong cluster secret?)' && l['claimedId'] === 'c'));
  await stillDelivers(t, b, a);
});

t.test('the right secret but an id that is not a peer is refused', async (t) => {
  const { a, lines } = await twoNodes(t);
  const stranger = await startTransport(t, 'z');
  stranger.addPeer('a', a.address());
  await waitFor(() => a.stats().rejectedConnections >= 1, 'refused');
  t.ok(lines.some((l) => l['claimedId'] === 'z' && String(l['reason']).includes('not a peer')));
  t.equal(stranger.stats().peers['a']?.connected, false);
});

t.test('a dialer refuses a server that cannot prove the secret', async (t) => {
  let hellos = 0;
  let otherFrames = 0;
  const sockets = new Set<Socket>();
  const fake = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const decoder = new FrameDecoder(1 << 20);
    const payloads = new PayloadDecoder();
    socket.on('data', (chunk: Buffer) =>
      decoder.push(chunk, (payload) => {
        if ((payloads.decode(payload) as { type?: unknown }).type === 'hello') {
          hellos += 1;
          socket.write(encoder.encode({ type: 'welcome', mac: Buffer.alloc(32, 9) }));
        } else {
          otherFrames += 1;
        }
        return true;
      }),
    );
    socket.write(encoder.encode({ type: 'challenge', version: 1, nonce: newNonce() }));
  });
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => fake.close(() => resolve()));
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const a = await startTransport(t, 'a');
  a.addPeer('f', { host: '127.0.0.1', port: (fake.address() as AddressInfo).port });
  a.send('f', 'secret state');
  await waitFor(() => a.stats().rejectedConnections >= 2, 'fake server refused repeatedly');
  t.ok(hellos >= 2, 'the dialer did answer the challenges');
  t.equal(otherFrames, 0, 'but never sent a message to the fake');
  t.equal(a.stats().peers['f']?.connected, false);
  t.equal(a.stats().peers['f']?.messagesSent, 0);
  t.equal(a.stats().peers['f']?.queuedMessages, 1, 'the message waits for the real peer');
});

t.test('an oversized frame from an authenticated peer closes that connection; the peer reconnects', async (t) => {
  const { logger, lines } = captureLogger();
  const a = await startTransport(t, 'a', { logger, maxFrameBytes: 1024 });
  const b = await startTransport(t, 'b'); // default limit: it will send what a refuses
  a.addPeer('b', b.address());
  b.addPeer('a', a.address());
  const got = inbox(a);
  b.send('a', 'x'.repeat(4096));
  await waitFor(() => a.stats().badFrames === 1, 'oversized frame counted');
  t.ok(lines.some((l) => l['msg'] === 'closing peer connection after a bad frame' && l['peer'] === 'b' && l['remoteAddress'] === '127.0.0.1'));
  await waitFor(() => b.stats().peers['a']?.reconnects === 1 && b.stats().peers['a']?.connected === true, 'b reconnects');
  b.send('a', 'small');
  await waitFor(() => count(got, 'b') === 1, 'small message delivered');
  t.same(get(got, 'b'), ['small']);
  t.equal(a.stats().rejectedConnections, 0, 'not a handshake rejection');
});

t.test('an undecodable frame after the handshake closes the connection', async (t) => {
  const { a, b, lines } = await twoNodes(t);
  a.addPeer('c', { host: '127.0.0.1', port: await unusedPort() }); // a member that is not running
  const got = inbox(a);
  const impostor = await authenticate(t, a.address(), 'c');
  impostor.socket.write(Buffer.concat([encoder.encode('valid first'), header(2), Buffer.from([0x92, 0x01])]));
  await waitFor(() => impostor.closed(), 'closed');
  t.equal(a.stats().badFrames, 1);
  t.same(got.get('c'), ['valid first'], 'frames before the bad one were delivered');
  t.ok(lines.some((l) => l['msg'] === 'closing peer connection after a bad frame'));
  await stillDelivers(t, b, a);
});

t.test('an oversized frame during the handshake is refused without buffering it', async (t) => {
  const { a } = await twoNodes(t);
  const client = await rawConnect(t, a.address());
  client.socket.write(header(10_000));
  await waitFor(() => client.closed(), 'closed');
  t.equal(a.stats().rejectedConnections, 1);
  t.equal(a.stats().badFrames, 1);
});

t.test('a newer connection from the same peer replaces the older one', async (t) => {
  // No real b here: its own outbound connection would be a third one claiming to be b.
  const a = await startTransport(t, 'a');
  a.addPeer('b', { host: '127.0.0.1', port: await unusedPort() });
  const first = await authenticate(t, a.address(), 'b');
  const second = await authenticate(t, a.address(), 'b');
  await waitFor(() => first.closed(), 'older connection closed');
  t.notOk(second.closed());
  const got = inbox(a);
  second.socket.write(encoder.encode('via the newer one'));
  await waitFor(() => count(got, 'b') === 1, 'delivered');
});
