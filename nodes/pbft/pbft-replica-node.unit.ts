/**
 * The runtime loop around a scripted core (the `wrap` hook replaces the real one): the Ready
 * contract's order (persist durably, then send, then hand executions and replies to the gateway),
 * peer-id ↔ index mapping, and bad peer input that must never stop the replica.
 */
import t from 'tap';
import pino from 'pino';
import type { ClientRequest, PbftMessage, PbftReady, PbftReplicaApi, PbftStatus } from '../../protocols/pbft/types.js';
import { MemoryPbftStore, type PbftPersistOp } from '../storage/leveldb-pbft-store.js';
import type { Transport, TransportStats } from '../transport/index.js';
import { generateKeyPair } from './keys.js';
import { NodePbftCrypto } from './node-crypto.js';
import { defaultPbftTuning } from './pbft-config.js';
import { PbftReplicaNode } from './pbft-replica-node.js';
import { ReplicaMetrics } from '../metrics.js';

const empty = (): PbftReady => ({ persist: [], messages: [], executed: [], replies: [], readReplies: [], executedBatches: [], checkpoints: [] });

class ScriptedCore implements PbftReplicaApi {
  next: PbftReady = empty();
  stepped: Array<[number, PbftMessage]> = [];
  submitted: ClientRequest[] = [];
  throwOnStep = false;
  tick(): void {}
  step(from: number, msg: PbftMessage): void {
    if (this.throwOnStep) throw new TypeError('boom');
    this.stepped.push([from, msg]);
  }
  submit(request: ClientRequest): 'accepted' {
    this.submitted.push(request);
    return 'accepted';
  }
  readOnly(): void {}
  hasReady(): boolean {
    const r = this.next;
    return r.persist.length + r.messages.length + r.executed.length + r.replies.length + r.readReplies.length > 0;
  }
  ready(): PbftReady {
    const r = this.next;
    this.next = empty();
    return r;
  }
  advance(): void {}
  status(): PbftStatus {
    return { id: 0, n: 4, f: 1, view: 0, primary: 0, isPrimary: true, viewChanging: false, lowWatermark: 0, highWatermark: 256, lastStableCheckpoint: 0,
      lastExecuted: 0, lastAssigned: 0, pendingRequests: 0, inFlight: 0, consecutiveViewChanges: 0, viewChangeTimeoutTicks: 40, stateTransfer: false,
      rejectedAuth: 0, rejectedInvalid: 0, executedRequests: 0, viewChanges: 0 };
  }
}

class FakeTransport implements Transport {
  handler: ((from: string, m: unknown) => void) | null = null;
  sent: Array<[string, unknown]> = [];
  async start(): Promise<void> {}
  send(to: string, message: unknown): boolean {
    this.sent.push([to, message]);
    return true;
  }
  isConnected(): boolean {
    return true;
  }
  onMessage(h: (from: string, m: unknown) => void): void {
    this.handler = h;
  }
  addPeer(): void {}
  removePeer(): void {}
  stats(): TransportStats {
    return { peers: {}, rejectedConnections: 0, badFrames: 0 };
  }
  async close(): Promise<void> {}
}

/** A store whose writes finish only when the test says so. */
class GatedStore extends MemoryPbftStore {
  release: (() => void) | null = null;
  override async persist(ops: readonly PbftPersistOp[], entries?: number): Promise<void> {
    await new Promise<void>((r) => (this.release = r));
    await super.persist(ops, entries);
  }
}

const ids = ['n1', 'n2', 'n3', 'n4'];
const pairs = ids.map(() => generateKeyPair());
const crypto = new NodePbftCrypto(0, pairs[0]!, pairs.map((p) => p.publicKeys));
const until = async (cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
};

async function startNode(store = new MemoryPbftStore()) {
  const core = new ScriptedCore();
  const transport = new FakeTransport();
  const node = await PbftReplicaNode.start({
    id: 'n1', replicas: ids, httpUrls: {}, tuning: { ...defaultPbftTuning, runtime: { ...defaultPbftTuning.runtime, tickMs: 1000 } }, store, transport, crypto,
    logger: pino({ level: 'silent' }), wrap: () => core, metrics: new ReplicaMetrics({ id: 'n1', protocol: 'pbft' }),
  });
  t.teardown(() => node.service.close());
  return { core, transport, node, store };
}

const prepare = (replica: number): PbftMessage => ({ type: 'Prepare', view: 0, sequence: 1, digest: 'd', replica, auth: new Uint8Array(16) });

t.test('messages leave only after their persist is durable (Ready contract)', async (t) => {
  const store = new GatedStore();
  const { core, transport } = await startNode(store);
  core.next = { ...empty(), persist: [{ key: 's1', value: 1 }], messages: [{ to: 2, message: prepare(0) }] };
  transport.handler!('n2', prepare(1)); // any input wakes the loop
  await until(() => store.release !== null);
  t.equal(transport.sent.length, 0, 'nothing sent while the batch is being written');
  store.release!();
  await until(() => transport.sent.length === 1);
  t.same(transport.sent[0]![0], 'n3', 'core index 2 is the third replica of the cluster file');
  t.ok(store.records.has('s1'), 'persisted');
});

t.test('peer ids map to core indices; malformed and choking messages are dropped, not fatal', async (t) => {
  const { core, transport, node } = await startNode();
  transport.handler!('n3', prepare(2));
  await until(() => core.stepped.length === 1);
  t.equal(core.stepped[0]![0], 2, 'n3 is index 2');
  transport.handler!('n3', { type: 'Prepare', view: 'zero' });
  transport.handler!('stranger', prepare(2));
  transport.handler!('n2', null);
  t.equal(node.stats.badMessages, 3, 'three malformed messages counted');
  core.throwOnStep = true;
  transport.handler!('n4', prepare(3));
  await until(() => node.stats.badMessages === 4);
  t.ok(node.healthy(), 'still running after the core threw on a peer message');
});

t.test('executions and replies reach the gateway: f+1 matching answers a write', async (t) => {
  const { core, transport, node } = await startNode();
  const answer = node.service.execute({ operation: { op: 'put', key: 'k', value: 'v' }, session: null });
  await until(() => core.submitted.length === 1);
  const request = core.submitted[0]!;
  core.next = {
    ...empty(),
    executed: [{ request, result: { kind: 'put' }, sequence: 1 }],
    replies: [{ from: 3, clientId: request.clientId, seq: request.seq, result: { kind: 'put' }, view: 0 }],
  };
  transport.handler!('n2', prepare(1));
  t.same(await answer, { kind: 'put' });
  t.equal(node.status()['protocol'], 'pbft');
});
