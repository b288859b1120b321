import t from 'tap';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, keyFilePath, loadKeys, loadOrCreateKeys, type PbftKeyPair } from './keys.js';
import { MAC_BYTES, NodePbftCrypto } from './node-crypto.js';

const n = 4;
const pairs: PbftKeyPair[] = Array.from({ length: n }, () => generateKeyPair());
const publicKeys = pairs.map((p) => p.publicKeys);
const replicas = pairs.map((p, i) => new NodePbftCrypto(i, p, publicKeys));
const bytes = new TextEncoder().encode('PRE-PREPARE v=0 n=1 d=abc');
const at = (i: number): NodePbftCrypto => replicas[i]!;

t.test('authenticator MACs: the pair shares a key, a third replica knows none of it (TOCS §3.1)', async (t) => {
  const tag = at(0).mac(1, bytes);
  t.equal(tag.byteLength, MAC_BYTES, 'truncated HMAC-SHA256');
  t.ok(at(1).verifyMac(0, bytes, tag), 'the receiver verifies the MAC its peer made for it');
  t.notOk(at(2).verifyMac(0, bytes, tag), 'a third replica cannot verify the pair 0-1 MAC');
  t.notOk(at(1).verifyMac(2, bytes, tag), 'the MAC does not pass as another sender');
  // What the third replica can compute is a MAC under its own pairwise keys, never the pair's.
  const forged = [at(2).mac(0, bytes), at(2).mac(1, bytes), at(2).mac(3, bytes)];
  for (const f of forged) t.notOk(at(1).verifyMac(0, bytes, f), 'no key replica 2 holds produces the 0-1 MAC');
  t.same(Buffer.from(at(0).mac(1, bytes)), Buffer.from(at(1).mac(0, bytes)), 'both ends derive the same key');
});

t.test('tampered bytes or tags fail, malformed tags never throw', async (t) => {
  const tag = at(0).mac(1, bytes);
  const changed = Uint8Array.from(bytes);
  changed[3] = changed[3]! ^ 1;
  t.notOk(at(1).verifyMac(0, changed, tag), 'tampered message');
  const badTag = Uint8Array.from(tag);
  badTag[0] = badTag[0]! ^ 0x80;
  t.notOk(at(1).verifyMac(0, bytes, badTag), 'tampered tag');
  t.notOk(at(1).verifyMac(0, bytes, tag.subarray(0, 8)), 'short tag');
  t.notOk(at(1).verifyMac(9, bytes, tag), 'unknown replica');
  t.notOk(at(1).verifyMac(0, bytes, 'garbage' as unknown as Uint8Array), 'not bytes');
});

t.test('signatures verify only for the signer (Ed25519)', async (t) => {
  const sig = at(2).sign(bytes);
  for (let i = 0; i < n; i++) t.ok(at(i).verify(2, bytes, sig), `replica ${i} verifies replica 2's signature`);
  t.notOk(at(0).verify(1, bytes, sig), 'not as another signer');
  const changed = Uint8Array.from(bytes);
  changed[0] = changed[0]! ^ 1;
  t.notOk(at(0).verify(2, changed, sig), 'tampered message');
  t.notOk(at(0).verify(2, bytes, sig.subarray(1)), 'truncated signature');
  t.notOk(at(0).verify(7, bytes, sig), 'unknown signer');
});

t.test('digest is SHA-256 hex', async (t) => {
  t.equal(at(0).digest(new Uint8Array()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

t.test('a key file that does not match the cluster file is refused', async (t) => {
  t.throws(() => new NodePbftCrypto(0, pairs[1]!, publicKeys), /does not match/);
});

t.test('key files: created 0600 on first use, the same identity afterwards', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cl-pbft-keys-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const path = keyFilePath(root, 'n1');
  t.equal(await loadKeys(path), null, 'no file yet');
  const first = await loadOrCreateKeys(path);
  t.equal((await stat(path)).mode & 0o777, 0o600, 'private keys are readable by the owner only');
  const again = await loadOrCreateKeys(path);
  t.same(again.publicKeys, first.publicKeys, 'loading keeps the identity');
  const c = new NodePbftCrypto(0, again, [first.publicKeys, ...publicKeys.slice(1)]);
  t.ok(at(1).verify(0, bytes, c.sign(bytes)) === false, 'replica 1 knows the old key 0, not this one');
  t.ok(new NodePbftCrypto(1, pairs[1]!, [first.publicKeys, ...publicKeys.slice(1)]).verify(0, bytes, c.sign(bytes)), 'the loaded key signs as itself');
});
