/**
 * Authentication (OSDI §4, TOCS §3.1): MACs on normal-case messages, signatures on Checkpoint,
 * ViewChange and NewView, and 'sign-all'. Forged and tampered messages are dropped and counted.
 */
import t from 'tap';
import { Authenticator } from './auth.js';
import { ByzantineReplica } from './byzantine.js';
import { authenticatedBytes } from './canonical.js';
import { SimKeyRing } from './sim/sim-crypto.js';
import { TestCluster } from './sim/test-cluster.js';
import type { Checkpoint, Prepare, ViewChange } from './types.js';

const ring = new SimKeyRing(7, 4);
const prepare = (replica: number, digest = 'd'): Prepare => ({ type: 'Prepare', view: 0, sequence: 1, digest, replica, auth: new Uint8Array(0) });

t.test('a MAC verifies only at its receiver, from its sender, over the same bytes', async (t) => {
  const a2 = new Authenticator(ring.cryptoFor(2), 'mac');
  const [toOne, toThree] = a2.seal(prepare(2), [1, 3]);
  t.ok(new Authenticator(ring.cryptoFor(1), 'mac').verify(toOne?.message as Prepare), 'receiver 1 accepts');
  t.notOk(new Authenticator(ring.cryptoFor(3), 'mac').verify(toOne?.message as Prepare), "replica 3 cannot check 1's MAC");
  t.ok(new Authenticator(ring.cryptoFor(3), 'mac').verify(toThree?.message as Prepare));
  const tampered = { ...(toOne?.message as Prepare), digest: 'other' };
  t.notOk(new Authenticator(ring.cryptoFor(1), 'mac').verify(tampered), 'a tampered digest fails');
  const forged = { ...(toOne?.message as Prepare), replica: 3 };
  t.notOk(new Authenticator(ring.cryptoFor(1), 'mac').verify(forged), 'claiming another sender fails');
});

t.test('Checkpoint, ViewChange and NewView are signed (forwardable proofs); sign-all signs everything', async (t) => {
  const a0 = new Authenticator(ring.cryptoFor(0), 'mac');
  const c: Checkpoint = { type: 'Checkpoint', sequence: 4, digest: 'x', replica: 0, auth: new Uint8Array(0) };
  const signed = a0.sign(c);
  for (const i of [1, 2, 3]) t.ok(new Authenticator(ring.cryptoFor(i), 'mac').verify(signed), `replica ${i} verifies the signature`);
  t.notOk(new Authenticator(ring.cryptoFor(1), 'mac').verify({ ...signed, replica: 2 }), 'not as replica 2');
  const all = new Authenticator(ring.cryptoFor(0), 'sign-all');
  const [one] = all.seal(prepare(0), [1]);
  t.ok(new Authenticator(ring.cryptoFor(3), 'sign-all').verify(one?.message as Prepare), 'sign-all: anyone can verify a Prepare');
});

t.test('the core drops forged and tampered messages and counts them', async (t) => {
  const c = new TestCluster(4);
  const core = c.cores[1];
  const crypto2 = c.crypto(2);
  const good = prepare(2);
  const bytes = authenticatedBytes(good);
  core?.step(2, { ...good, auth: crypto2.mac(1, bytes) });
  t.equal(core?.status().rejectedAuth, 0);
  core?.step(2, { ...good, digest: 'evil', auth: crypto2.mac(1, bytes) });
  core?.step(3, { ...prepare(3), auth: crypto2.mac(1, authenticatedBytes(prepare(3))) });
  const vc: ViewChange = { type: 'ViewChange', view: 1, h: 0, checkpointDigest: core?.genesisDigest ?? '', checkpointProof: [], prepared: [], prePrepared: [], batches: [], replica: 3, auth: new Uint8Array(0) };
  core?.step(2, { ...vc, auth: crypto2.sign(authenticatedBytes(vc)) });
  t.equal(core?.status().rejectedAuth, 3, 'tampered, forged MAC, forged signature');
  core?.step(2, { type: 'Prepare', view: 'x' } as unknown as Prepare);
  core?.step(2, null as unknown as Prepare);
  t.equal(core?.status().rejectedInvalid, 2, 'malformed messages are dropped, never thrown on');
});

t.test("ByzantineReplica 'forge': its copies claiming other replicas all fail verification", async (t) => {
  const c = new TestCluster(4, {}, new Map([[2, 'forge' as const]]));
  t.ok(c.replicas[2] instanceof ByzantineReplica);
  for (let k = 1; k <= 5; k++) c.replicas[1]?.submit(c.request('c', k, 'k', `v${k}`, 1));
  c.run();
  const rejected = [0, 1, 3].reduce((sum, i) => sum + (c.cores[i]?.status().rejectedAuth ?? 0), 0);
  t.ok(rejected > 0, `${rejected} forged messages rejected`);
  for (const i of [0, 1, 3]) t.equal(c.cores[i]?.get('k'), 'v5', `correct replica ${i} is unaffected`);
});
