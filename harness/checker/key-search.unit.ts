/**
 * The per-key search (key-search.ts) against a brute-force check on thousands of tiny random
 * histories. The search prunes a lot (the memo with info dominance, dead info operations,
 * interchangeable info operations, no blind write right after an info operation, reads that
 * match taken at once); any pruning that loses a linearization shows up here as a
 * disagreement.
 */
import t from 'tap';
import { SeededRng } from '../../protocols/common/rng.js';
import { bruteForceLinearizable } from './brute-force.js';
import { KeySearch } from './key-search.js';
import type { Operation } from './operations.js';

interface Shape {
  readonly opsMax: number;
  readonly values: readonly string[];
  readonly infoRate: number;
  /** Probability of a read; the other kinds share the rest. */
  readonly readRate: number;
}

function tinyHistory(seed: number, shape: Shape): Operation[] {
  const rng = new SeededRng(seed);
  const n = rng.between(1, shape.opsMax);
  const value = (): string => shape.values[rng.int(shape.values.length)]!;
  const fs = ['read', 'write', 'cas', 'delete'] as const;
  return Array.from({ length: n }, (_, id): Operation => {
    const f = rng.chance(shape.readRate) ? 'read' : fs[1 + rng.int(fs.length - 1)]!;
    const invokeTime = rng.int(20);
    const info = f !== 'read' && rng.chance(shape.infoRate);
    return {
      id,
      process: id,
      f,
      key: 'k',
      value:
        f === 'read' ? (rng.chance(0.3) ? null : value())
        : f === 'write' ? value()
        : f === 'cas' ? [rng.chance(0.3) ? null : value(), value()]
        : null,
      status: info ? 'info' : 'ok',
      invokeTime,
      returnTime: info ? Infinity : invokeTime + rng.int(8),
    };
  });
}

const SHAPES: ReadonlyArray<[string, Shape, number]> = [
  ['up to 8 ops, 3 values, some info', { opsMax: 8, values: ['a', 'b', 'c'], infoRate: 0.35, readRate: 0.25 }, 4000],
  ['up to 10 ops, 2 values, half info', { opsMax: 10, values: ['a', 'b'], infoRate: 0.5, readRate: 0.25 }, 3000],
  ['up to 9 ops, 1 value, mostly info', { opsMax: 9, values: ['a'], infoRate: 0.8, readRate: 0.25 }, 2000],
  ['up to 10 ops, mostly reads', { opsMax: 10, values: ['a', 'b'], infoRate: 0.3, readRate: 0.6 }, 3000],
];

for (const [name, shape, count] of SHAPES) {
  t.test(`agrees with brute force: ${count} histories of ${name}`, async (t) => {
    let linearizable = 0;
    for (let seed = 0; seed < count; seed++) {
      const ops = tinyHistory(seed, shape);
      const expected = bruteForceLinearizable(ops);
      const got = new KeySearch(ops).run() === 'linearizable';
      if (got !== expected) {
        t.fail(`seed ${seed}: search says ${got}, brute force ${expected}: ${JSON.stringify(ops)}`);
        return;
      }
      if (expected) linearizable++;
    }
    t.ok(linearizable > count / 10 && linearizable < count, `${linearizable} of ${count} linearizable: both kinds covered`);
  });
}

t.test('a paused search resumes where it stopped and reaches the same answer', async (t) => {
  const ops: Operation[] = Array.from({ length: 12 }, (_, i) => ({
    id: i,
    process: i,
    f: 'write',
    key: 'k',
    value: `w${i}`,
    status: 'ok',
    invokeTime: i,
    returnTime: 100 + i,
  }));
  ops.push(
    { id: 12, process: 99, f: 'read', key: 'k', value: 'w0', status: 'ok', invokeTime: 200, returnTime: 201 },
    { id: 13, process: 99, f: 'read', key: 'k', value: 'w1', status: 'ok', invokeTime: 202, returnTime: 203 },
  );
  const whole = new KeySearch(ops);
  t.equal(whole.run(), 'violation');
  const sliced = new KeySearch(ops);
  let pauses = 0;
  let status = sliced.run(0);
  while (status === 'paused') {
    pauses++;
    status = sliced.run(0);
  }
  t.equal(status, 'violation');
  t.ok(pauses > 10, `paused ${pauses} times`);
  t.equal(sliced.statesExplored, whole.statesExplored);
  t.same(sliced.failure(), whole.failure());
});
