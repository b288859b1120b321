/**
 * Forwarding over the replica transport (messages.ts, forward-client.ts, forward-server.ts), with
 * a follower and a leader joined by an in-memory link: batching, answers, refusals, timeouts, and
 * what a client may conclude from each (README, "The HTTP API": NO_LEADER means not applied,
 * TIMEOUT means unknown).
 */
import t from 'tap';
import { NotLeaderError, ServiceError } from '../http/errors.js';
import type { Transport, TransportStats } from '../transport/index.js';
import { ForwardClient } from './forward-client.js';
import { ForwardServer, type ProposeOutcome } from './forward-server.js';
import { isForwardMessage, type ForwardMessage, type ForwardRequest } from './messages.js';

interface At {
  index: number;
}
const isAt = (v: unknown): v is At => typeof v === 'object' && v !== null && Number.isSafeInteger((v as At).index);

/** One side of an in-memory link; messages are delivered on the next turn, after encoding-like checks. */
class LinkEnd implements Transport {
  readonly sent: Array<{ to: string; message: unknown }> = [];
  connected = true;
  accept = true;
  deliver: (to: string, message: unknown) => void = () => undefined;
  async start(): Promise<void> {}
  send(to: string, message: unknown): boolean {
    if (!this.accept) return false;
    this.sent.push({ to, message });
    queueMicrotask(() => this.deliver(to, message));
    return true;
  }
  isConnected(): boolean {
    return this.connected;
  }
  onMessage(): void {}
  addPeer(): void {}
  removePeer(): void {}
  stats(): TransportStats {
    return { peers: {}, rejectedConnections: 0, badFrames: 0 };
  }
  async close(): Promise<void> {}
}

function pair(propose: (data: Uint8Array) => ProposeOutcome<At>, timeoutMs = 5000) {
  const followerEnd = new LinkEnd();
  const leaderEnd = new LinkEnd();
  const client = new ForwardClient<At>({ self: 'n2', transport: followerEnd, timeoutMs });
  const reads: Array<{ ctx: number; lease: boolean }> = [];
  const server = new ForwardServer<At>({ self: 'n1', transport: leaderEnd, propose, read: (ctx, lease) => reads.push({ ctx, lease }), leader: () => 'n1' });
  followerEnd.deliver = (_to, m) => {
    if (isForwardMessage(m, isAt) && m.type === 'Forward') server.handle('n2', m);
  };
  leaderEnd.deliver = (_to, m) => {
    if (isForwardMessage(m, isAt) && m.type === 'ForwardReply') client.onReply('n1', m);
  };
  return { client, server, followerEnd, leaderEnd, reads };
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test('writes that arrive together travel in one Forward message and learn their positions', async (t) => {
  let next = 10;
  const { client, followerEnd } = pair(() => ({ ok: true, at: { index: next++ } }));
  const positions = await Promise.all([client.write('n1', bytes('a')), client.write('n1', bytes('b')), client.write('n1', bytes('c'))]);
  t.same(positions, [{ index: 10 }, { index: 11 }, { index: 12 }], 'proposed in arrival order');
  const forwards = followerEnd.sent.filter((s) => (s.message as ForwardMessage<At>).type === 'Forward');
  t.equal(forwards.length, 1, 'one message for the three writes');
  t.equal((forwards[0]?.message as ForwardRequest).writes.length, 3);
  t.equal(client.size, 0, 'nothing left pending');
});

t.test('refusals: not-leader becomes NotLeaderError (not applied, retry), overloaded becomes OVERLOADED', async (t) => {
  const refuse = (reason: 'not-leader' | 'overloaded') => pair(() => ({ ok: false, refused: reason, leader: 'n3' })).client;
  const notLeader = await refuse('not-leader').write('n1', bytes('x')).catch((e: unknown) => e);
  t.ok(notLeader instanceof NotLeaderError && notLeader.leader === 'n3', 'NotLeaderError naming the leader the old one knows');
  const overloaded = await refuse('overloaded').write('n1', bytes('x')).catch((e: unknown) => e);
  t.ok(overloaded instanceof ServiceError && overloaded.code === 'OVERLOADED');
});

t.test('no connection to the leader: refused before sending, so it was certainly not applied', async (t) => {
  const { client, followerEnd } = pair(() => ({ ok: true, at: { index: 1 } }));
  followerEnd.connected = false;
  const err = await client.write('n1', bytes('x')).catch((e: unknown) => e);
  t.ok(err instanceof NotLeaderError && err.leader === null);
  t.equal(followerEnd.sent.length, 0, 'nothing was sent');
});

t.test('a lost answer times out: TIMEOUT, the outcome is unknown', async (t) => {
  const { client, leaderEnd } = pair(() => ({ ok: true, at: { index: 1 } }), 1000);
  leaderEnd.deliver = () => undefined; // the answer is lost
  const pending = client.write('n1', bytes('x')).catch((e: unknown) => e);
  await new Promise((r) => setImmediate(r));
  client.expire(Date.now() + 2000);
  const err = await pending;
  t.ok(err instanceof ServiceError && err.code === 'TIMEOUT');
  t.equal(client.stats.timeouts, 1);
});

t.test('an answer from another peer than the one asked is ignored', async (t) => {
  const { client, leaderEnd } = pair(() => ({ ok: true, at: { index: 7 } }), 1000);
  leaderEnd.deliver = (_to, m) => {
    if (isForwardMessage(m, isAt) && m.type === 'ForwardReply') client.onReply('n3', m); // claims to be n3
  };
  const pending = client.write('n1', bytes('x')).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 10));
  t.equal(client.size, 1, 'still waiting for n1');
  client.expire(Date.now() + 2000);
  t.ok((await pending) instanceof ServiceError);
});

t.test('follower reads: one core read per batch, answered with its index (dissertation §6.4)', async (t) => {
  const { client, server, reads } = pair(() => ({ ok: true, at: { index: 1 } }));
  const answers = Promise.all([client.readIndex('n1', false), client.readIndex('n1', false)]);
  await new Promise((r) => setTimeout(r, 5));
  t.equal(reads.length, 1, 'the two reads share one leadership confirmation');
  t.equal(reads[0]?.lease, false);
  t.ok(ForwardServer.owns(reads[0]?.ctx ?? 0), 'with a context of its own (never one of the leader’s own reads)');
  server.readsAnswered([{ ctx: reads[0]?.ctx ?? 0, index: 42 }, { ctx: 5, index: 9 }], []);
  t.same(await answers, [42, 42]);
  const lease = client.readIndex('n1', true);
  await new Promise((r) => setTimeout(r, 5));
  t.equal(reads[1]?.lease, true, 'a lease read asks the core for one');
  server.readsAnswered([], [reads[1]?.ctx ?? 0]);
  const err = await lease.catch((e: unknown) => e);
  t.ok(err instanceof NotLeaderError, 'a read the leader cannot serve fails as not-leader');
});

t.test('the guard refuses malformed forwarding messages', async (t) => {
  t.notOk(isForwardMessage({ type: 'Forward', from: 'a', to: 'b', writes: [{ id: -1, data: new Uint8Array() }], reads: [] }, isAt));
  t.notOk(isForwardMessage({ type: 'Forward', from: 'a', to: 'b', writes: [{ id: 1, data: 'text' }], reads: [] }, isAt));
  t.notOk(isForwardMessage({ type: 'ForwardReply', from: 'a', to: 'b', writes: [{ id: 1, at: { index: 'x' } }], reads: [] }, isAt));
  t.notOk(isForwardMessage({ type: 'ForwardReply', from: 'a', to: 'b', writes: [{ id: 1, refused: 'maybe', leader: null }], reads: [] }, isAt));
  t.notOk(isForwardMessage({ type: 'Forward', from: 'a', to: 'b', writes: new Array(20_001).fill({ id: 1, data: new Uint8Array() }), reads: [] }, isAt));
  t.ok(isForwardMessage({ type: 'ForwardReply', from: 'a', to: 'b', writes: [{ id: 1, at: { index: 3 } }], reads: [{ id: 2, index: 4 }] }, isAt));
});
