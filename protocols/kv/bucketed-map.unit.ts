/**
 * The off-heap key-value data (bucketed-map.ts, bucket-table.ts, record-arena.ts) behaves exactly
 * like one JavaScript Map per bucket: the same answers, the same size, the same insertion order,
 * every string back as it went in, and freed space reused.
 */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import { BUCKETS, BucketedMap, bucketOf } from './bucketed-map.js';
import { RecordArena, sizeClass } from './record-arena.js';

/** Keys and values of every shape: ASCII, latin1, beyond latin1, a lone surrogate, empty, large. */
function randomString(rng: SeededRng, k: number): string {
  switch (rng.int(8)) {
    case 0:
      return '';
    case 1:
      return `é${k}ÿ`;
    case 2:
      return `日本${k}`;
    case 3:
      return `\ud800${k}`;
    case 4:
      return 'x'.repeat(rng.between(200, 3000)) + k;
    case 5:
      return rng.chance(0.05) ? 'L'.repeat(1_100_000) + k : `v${k}`;
    default:
      return `value-${k}-${'y'.repeat(rng.int(300))}`;
  }
}

function modelEntries(model: Map<number, Map<string, string>>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let b = 0; b < BUCKETS; b++) for (const e of model.get(b) ?? []) out.push(e);
  return out;
}

t.test('random puts, overwrites and deletes agree with a Map per bucket, order included', async (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    const rng = new SeededRng(seed);
    const map = new BucketedMap();
    const model = new Map<number, Map<string, string>>();
    const keys = [...Array(400).keys()].map((i) => (i % 7 === 0 ? `ключ${i}` : i % 11 === 0 ? `k\udfff${i}` : `key${i}`));
    for (let step = 0; step < 6000; step++) {
      const key = keys[rng.int(keys.length)] as string;
      const b = bucketOf(key);
      const bucket = model.get(b) ?? new Map<string, string>();
      model.set(b, bucket);
      if (rng.chance(0.3)) {
        t.equal(map.delete(key), bucket.delete(key), `seed ${seed} step ${step}: delete ${key}`);
      } else {
        const value = randomString(rng, step);
        map.set(key, value);
        bucket.set(key, value);
      }
      if (step % 500 === 0) t.equal(map.get(key), bucket.get(key), `seed ${seed} step ${step}: get`);
    }
    const expected = modelEntries(model);
    t.equal(map.size, expected.length, `seed ${seed}: size`);
    t.same([...map.entries()], expected, `seed ${seed}: every pair, in each bucket's insertion order`);
    for (const key of keys) if (map.get(key) !== model.get(bucketOf(key))?.get(key)) t.fail(`seed ${seed}: get ${key}`);
  }
});

t.test('a bucket replaced wholesale, and a cleared map', async (t) => {
  const map = new BucketedMap();
  for (let i = 0; i < 5000; i++) map.set(`k${i}`, `v${i}`);
  const b = bucketOf('k1');
  const before = map.bucketEntries(b).length;
  let other = 0;
  while (bucketOf(`new${other}`) !== b) other++; // a fetched partition holds keys of its own bucket
  map.replaceBucket(b, [['k1', 'new'], [`new${other}`, 'x']]);
  t.equal(map.get('k1'), 'new');
  t.equal(map.get(`new${other}`), 'x');
  t.equal(map.size, 5000 - before + 2, 'size follows the replaced bucket');
  t.same(map.bucketEntries(b), [['k1', 'new'], [`new${other}`, 'x']]);
  map.clear();
  t.equal(map.size, 0);
  t.equal(map.get('k2'), undefined);
  t.equal(map.recordBytes, 0, 'the records are given back');
  map.set('again', 'yes');
  t.equal(map.get('again'), 'yes');
});

t.test('overwriting with a value of the same size class reuses the record: the arena does not grow', async (t) => {
  const map = new BucketedMap();
  const value = (i: number) => `${i}`.padStart(256, '0');
  for (let i = 0; i < 70_000; i++) map.set(`key${i}`, value(i));
  const held = map.recordBytes;
  t.ok(held >= 70_000 * 256 && held <= 2 * 70_000 * 300, `${held} bytes for 70,000 pairs`);
  for (let round = 0; round < 3; round++) for (let i = 0; i < 70_000; i++) map.set(`key${i}`, value(i + round));
  for (let i = 0; i < 70_000; i += 2) map.delete(`key${i}`);
  for (let i = 0; i < 70_000; i += 2) map.set(`other${i}`, value(i));
  t.equal(map.recordBytes, held, 'overwrites, deletes and new keys of the same size reused freed records');
  t.equal(map.get('key1'), value(3));
  t.equal(map.get('other0'), value(0));
});

t.test('size classes lose at most 12.5% and hold the record', async (t) => {
  for (const bytes of [1, 8, 16, 17, 300, 1024, 1025, 4097, 65_537, 1_048_576]) {
    const cls = sizeClass(bytes);
    t.ok(cls >= bytes && (cls <= 16 || cls <= bytes * 1.125 || cls - bytes < 16), `${bytes} → ${cls}`);
    t.equal(cls % 8, 0, 'aligned to 8 bytes');
  }
});

t.test('a large record has a chunk of its own, given back when freed', async (t) => {
  const arena = new RecordArena();
  const small = arena.add('k', 'v');
  const base = arena.heldBytes;
  const big = arena.add('big', 'z'.repeat(3_000_000));
  t.ok(arena.heldBytes >= base + 3_000_000, 'a chunk for the large record');
  t.equal(arena.value(big).length, 3_000_000);
  t.ok(arena.keyEquals(big, 'big') && !arena.keyEquals(big, 'bi') && !arena.keyEquals(big, 'bug'));
  arena.free(big);
  t.equal(arena.heldBytes, base, 'given back');
  t.equal(arena.value(small), 'v');
  const again = arena.replaceValue(small, 'k', 'w'.repeat(2_000_000));
  t.equal(arena.value(again), 'w'.repeat(2_000_000), 'grown into a large record');
  t.equal(arena.key(again), 'k');
});

t.test('a pinned bucket reads as it was while its keys are overwritten, deleted or replaced; then its records are freed', async (t) => {
  const map = new BucketedMap();
  for (let i = 0; i < 30_000; i++) map.set(`k${i}`, `v${i}`.padEnd(40, '.'));
  const b = bucketOf('k7');
  const before = map.bucketEntries(b);
  const pinned = map.pin(b);
  const held = map.recordBytes;
  for (const [key] of before) map.set(key, 'changed'.padEnd(40, '!'));
  map.delete(before[0]?.[0] as string);
  t.same(map.readPinned(b, pinned), before, 'the pinned copy is the bucket as it was');
  map.set('k7', 'after'.padEnd(40, '-'));
  t.equal(map.get('k7'), 'after'.padEnd(40, '-'));
  const now = map.bucketEntries(b);
  const again = map.pin(b);
  map.replaceBucket(b, []);
  t.ok(now.length > 3, `${now.length} pairs in the bucket`);
  t.same(map.readPinned(b, again), now, 'a replaced bucket still reads as pinned');
  t.ok(map.recordBytes <= held + 16 * 1024 * 1024, 'retired records were freed, not kept');
  map.pin(bucketOf('k1'));
  map.set('k1', 'x');
  map.releaseAll();
  t.equal(map.get('k1'), 'x');
});
