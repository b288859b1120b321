/**
 * The incremental state digest (adhash.ts, partitions.ts, service-state.ts; TOCS §6.2.1): what is
 * kept up to date on every apply equals what is computed from scratch, whatever the order.
 */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import type { KvOperation } from '../kv/commands.js';
import { adhashAdd, adhashHex, adhashRemove, itemHash } from './adhash.js';
import { PARTITIONS, partitionHash, type PartitionEntry } from './partitions.js';
import { ServiceState } from './service-state.js';
import { SimKeyRing } from './sim/sim-crypto.js';

const crypto = new SimKeyRing(7, 4).cryptoFor(0);
const digest = (bytes: Uint8Array): string => crypto.digest(bytes);

function randomOp(rng: SeededRng): KvOperation {
  const key = `k${rng.int(300)}`;
  switch (rng.int(4)) {
    case 0:
      return { op: 'delete', key };
    case 1:
      return { op: 'cas', key, expected: rng.int(2) === 0 ? null : `v${rng.int(5)}`, value: `v${rng.int(5)}` };
    case 2:
      return { op: 'get', key };
    default:
      return { op: 'put', key, value: `v${rng.int(5)}` };
  }
}

t.test('AdHash: adding then removing an item gives the sum back; the order of additions does not matter', async (t) => {
  const hs = ['a', 'b', 'c', 'd'].map((x) => itemHash(digest, x));
  const forward = hs.reduce(adhashAdd, 0n);
  const backward = [...hs].reverse().reduce(adhashAdd, 0n);
  t.equal(adhashHex(forward), adhashHex(backward));
  t.equal(adhashRemove(adhashAdd(forward, itemHash(digest, 'e')), itemHash(digest, 'e')), forward);
  t.not(adhashHex(forward), adhashHex(hs.slice(1).reduce(adhashAdd, 0n)), 'a different set, a different sum');
});

t.test('every partition digest kept on apply equals the digest from scratch, over 5,000 random operations', async (t) => {
  const rng = new SeededRng(42);
  const state = new ServiceState(digest);
  const seqs = new Map<string, number>();
  for (let k = 0; k < 5000; k++) {
    const client = `c${rng.int(40)}`;
    // Mostly new requests, some retries (duplicates change nothing).
    const seq = rng.int(10) === 0 ? Math.max(1, (seqs.get(client) ?? 1) - rng.int(3)) : (seqs.get(client) ?? 0) + 1;
    seqs.set(client, Math.max(seq, seqs.get(client) ?? 0));
    state.apply(randomOp(rng), { clientId: client, seq });
  }
  let mismatches = 0;
  let nonEmpty = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const entries = [...state.entries(p)];
    if (entries.length > 0) nonEmpty++;
    if (partitionHash(digest, p, entries) !== state.checkpoints.liveSum(p)) mismatches++;
  }
  t.equal(mismatches, 0, 'incremental = from scratch, for every partition');
  t.ok(nonEmpty > 100, `the operations touched many partitions (${nonEmpty})`);
});

t.test('a partition digest does not depend on the order of its entries', async (t) => {
  const rng = new SeededRng(3);
  const state = new ServiceState(digest);
  for (let k = 1; k <= 2000; k++) state.apply({ op: 'put', key: `key-${k}`, value: `value-${k}` }, { clientId: 'c', seq: k });
  for (const p of [0, 17, 4095, PARTITIONS - 1]) {
    const entries: PartitionEntry[] = [...state.entries(p)];
    const shuffled = [...entries];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j] as PartitionEntry, shuffled[i] as PartitionEntry];
    }
    t.equal(partitionHash(digest, p, shuffled), partitionHash(digest, p, entries), `partition ${p}`);
  }
});

t.test('a checkpoint keeps its state copy-on-write: partitions read at n stay as they were at n', async (t) => {
  const state = new ServiceState(digest);
  for (let k = 1; k <= 500; k++) state.apply({ op: 'put', key: `k${k}`, value: 'a' }, { clientId: 'c', seq: k });
  const d4 = state.checkpoints.checkpoint(4);
  t.equal(state.stabilize(4).length, 501, 'stable at 4: the 500 keys and one session written since genesis');
  const before = Array.from({ length: PARTITIONS }, (_, p) => JSON.stringify(state.checkpoints.partitionAt(4, p)));
  for (let k = 1; k <= 500; k += 3) state.apply(k % 2 === 0 ? { op: 'delete', key: `k${k}` } : { op: 'put', key: `k${k}`, value: 'b' }, { clientId: 'd', seq: k });
  state.checkpoints.checkpoint(8);
  state.apply({ op: 'put', key: 'new', value: 'x' }, { clientId: 'c', seq: 501 });
  const after = Array.from({ length: PARTITIONS }, (_, p) => JSON.stringify(state.checkpoints.partitionAt(4, p)));
  t.same(after, before, 'every partition at checkpoint 4, read after later changes');
  t.equal(state.checkpoints.digestAt(4), d4);
  t.not(state.checkpoints.digestAt(8), d4, 'checkpoint 8 has another state');
  const stable = state.stabilize(8);
  t.equal(stable.length, 167 + 1, 'stable at 8: only the 167 keys and the one session changed since 4');
  t.notOk(state.checkpoints.has(4), 'and checkpoint 4 is dropped');
});
