/**
 * Property tests on generated histories (generate-history.ts): a history produced by running a
 * real map is always linearizable, and the same history with one injected stale read never is.
 * Every failure names its seed.
 */
import t from 'tap';
import { SeededRng } from '../../protocols/common/rng.js';
import { checkHistory } from './check-history.js';
import { generateHistory, injectStaleRead } from './generate-history.js';
import type { GenerateOptions } from './generate-history.js';

const HISTORIES = 200;
const TIMEOUT_MS = 20_000;

/** The shape of history number `seed`: sizes, keys, clients and crash rates vary. */
function shapeOf(seed: number): GenerateOptions {
  const rng = new SeededRng(seed);
  return {
    seed,
    ops: rng.between(20, 1000),
    keys: rng.between(1, 5),
    clients: rng.between(2, 10),
    infoRate: rng.next() * 0.2,
    failRate: rng.next() * 0.05,
    maxDurationNs: rng.between(2, 3_000),
    maxGapNs: rng.between(1, 1_000),
  };
}

t.test(`${HISTORIES} generated histories are linearizable; with one stale read they are not`, async (t) => {
  const failures: string[] = [];
  let injectedIntoExistingRead = 0;
  for (let seed = 1; seed <= HISTORIES; seed++) {
    const options = shapeOf(seed);
    const replay = `seed ${seed} (${JSON.stringify(options)})`;
    const events = generateHistory(options);
    const result = checkHistory(events, { timeoutMs: TIMEOUT_MS });
    if (result.valid !== true) {
      failures.push(`${replay}: generated history judged ${String(result.valid)} on key ${result.violation?.key ?? '?'}`);
      continue;
    }
    const injected =
      injectStaleRead(events, new SeededRng(seed)) ??
      injectStaleRead(generateHistory({ ...options, ops: options.ops * 4 }), new SeededRng(seed));
    if (injected === undefined) {
      failures.push(`${replay}: no place to inject a stale read`);
      continue;
    }
    if (injected.events.length === events.length) injectedIntoExistingRead++;
    const broken = checkHistory(injected.events, { timeoutMs: TIMEOUT_MS });
    if (broken.valid !== false) {
      failures.push(`${replay}: with ${injected.description}: judged ${String(broken.valid)}`);
    } else if (broken.violation?.key !== injected.key) {
      failures.push(`${replay}: violation reported on key ${broken.violation?.key ?? '?'}, injected on ${injected.key}`);
    }
  }
  t.same(failures, [], 'every seed behaves');
  t.ok(injectedIntoExistingRead > HISTORIES / 4, `${injectedIntoExistingRead} injections changed an existing read`);
});

t.test('the generator is deterministic and shaped as asked', async (t) => {
  const options = { seed: 7, ops: 500, keys: 3, clients: 4, infoRate: 0.1 };
  const a = generateHistory(options);
  t.same(generateHistory(options), a, 'same seed, same history');
  t.not(JSON.stringify(generateHistory({ ...options, seed: 8 })), JSON.stringify(a));
  t.equal(a.filter((e) => e.type === 'invoke').length, 500);
  t.same(new Set(a.map((e) => e.key)), new Set(['k0', 'k1', 'k2']));
  t.ok(a.some((e) => e.type === 'info'), 'some operations are indeterminate');
  t.ok(a.some((e) => e.type === 'fail'), 'some fail');
  const open = new Set(a.filter((e) => e.type === 'invoke').map((e) => e.process));
  t.ok(open.size > 4, 'a client that crashed continues as a new process');
  const times = a.map((e) => e.time);
  t.same(times, [...times].sort((x, y) => x - y), 'events are in time order');
});
