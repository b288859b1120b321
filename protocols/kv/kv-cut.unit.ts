/**
 * Consistent cuts (kv-cut.ts): a snapshot read in parts while commands keep changing the state is
 * exactly the state at the moment the cut opened, sessions (and their recency order) included.
 */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import type { KvCommand } from './commands.js';
import { KvStateMachine } from './state-machine.js';
import { bucketOf } from './bucketed-map.js';

function randomCommand(rng: SeededRng, k: number): KvCommand {
  const key = `k${rng.int(300)}`;
  const roll = rng.next();
  const session = rng.chance(0.5) ? { clientId: `c${rng.int(40)}`, seq: k } : null;
  if (roll < 0.6) return { operation: { op: 'put', key, value: `v${k}` }, session };
  if (roll < 0.8) return { operation: { op: 'delete', key }, session };
  return { operation: { op: 'cas', key, expected: rng.chance(0.5) ? null : `v${rng.int(k + 1)}`, value: `w${k}` }, session };
}

function restored(parts: Parameters<KvStateMachine['restorePart']>[0][]): KvStateMachine {
  const sm = new KvStateMachine({ maxSessions: 25, windowSize: 4 });
  sm.clear();
  for (const part of parts) sm.restorePart(part);
  return sm;
}

t.test('a cut read in parts while commands apply is the state at the moment it opened', async (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new SeededRng(seed);
    const sm = new KvStateMachine({ maxSessions: 25, windowSize: 4 });
    let k = 0;
    for (; k < 500; k++) sm.apply(randomCommand(rng, k));
    const expected = sm.snapshot();
    const cut = sm.openCut();
    const parts = [];
    for (let part = cut.next(rng.between(1, 30)); part !== null; part = cut.next(rng.between(1, 30))) {
      parts.push(part);
      for (let j = rng.int(20); j > 0; j--) sm.apply(randomCommand(rng, k++)); // the state moves on
    }
    t.ok(cut.done, `seed ${seed}: the cut closed at its end`);
    t.same(restored(parts).snapshot(), expected, `seed ${seed}: ${parts.length} parts, ${k - 500} commands applied meanwhile`);
  }
});

t.test('parts bounded by bytes end inside a bucket; writes to the rest of that bucket do not show', async (t) => {
  // Keys that share buckets, so that parts of a few hundred bytes end inside them.
  const keys: string[] = [];
  for (let i = 0; keys.length < 400; i++) if (bucketOf(`k${i}`) % 16 === 0) keys.push(`k${i}`);
  for (let seed = 1; seed <= 20; seed++) {
    const rng = new SeededRng(seed);
    const sm = new KvStateMachine();
    for (const key of keys) sm.apply({ operation: { op: 'put', key, value: 'x'.repeat(rng.between(1, 200)) }, session: null });
    const expected = sm.snapshot();
    const cut = sm.openCut();
    const parts = [];
    for (let part = cut.next(1000, 300); part !== null; part = cut.next(1000, 300)) {
      parts.push(part);
      const entries = 'data' in part ? part.data : [];
      const bytes = entries.reduce((n, [k, v]) => n + k.length + v.length, 0);
      const last = entries.at(-1);
      if (last !== undefined) t.ok(bytes - last[0].length - last[1].length < 300, `seed ${seed}: a part passes its bound by one entry at most`);
      for (let j = rng.int(10); j > 0; j--) {
        const key = keys[rng.int(keys.length)] as string;
        sm.apply({ operation: rng.chance(0.3) ? { op: 'delete', key } : { op: 'put', key, value: 'changed' }, session: null });
      }
    }
    t.same(restored(parts).snapshot(), expected, `seed ${seed}: ${parts.length} parts`);
  }
});

t.test('a restored state machine behaves as the original: results, sessions and their expiry order', async (t) => {
  const rng = new SeededRng(7);
  const sm = new KvStateMachine({ maxSessions: 25, windowSize: 4 });
  for (let k = 0; k < 400; k++) sm.apply(randomCommand(rng, k));
  const cut = sm.openCut();
  const parts = [];
  for (let part = cut.next(10); part !== null; part = cut.next(10)) parts.push(part);
  const copy = restored(parts);
  for (let k = 400; k < 800; k++) {
    const command = randomCommand(rng, k);
    t.same(copy.apply(command), sm.apply(command), `command ${k}`);
  }
  t.same(copy.snapshot(), sm.snapshot());
});

t.test('opening a cut costs nothing in the size of the state; writes copy at most one bucket', async (t) => {
  const sm = new KvStateMachine();
  for (let k = 0; k < 20_000; k++) sm.apply({ operation: { op: 'put', key: `key${k}`, value: 'x' }, session: null });
  const cut = sm.openCut();
  t.equal(cut.keys, 20_000);
  const first = cut.next(100);
  t.ok(first !== null && 'data' in first && first.data.length >= 100, 'the first part holds whole buckets');
  cut.close();
  t.ok(cut.done);
  t.equal(cut.next(10), null, 'a closed cut reads nothing');
  sm.apply({ operation: { op: 'put', key: 'after', value: 'y' }, session: null });
  t.equal(sm.get('after'), 'y', 'and the state machine goes on');
});
