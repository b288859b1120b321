/**
 * The planned clock line and its libfaketime setting: continuous on a rate change, a step on a
 * bump, "+0 x1" for the true time, "@<seconds> x<rate>" otherwise, anchored a little ahead.
 */
import t from 'tap';
import { changed, describe, faketimeSpec, fakeAt, isTrue, offsetAt, trueClock } from './clock-model.js';

const T0 = 1_800_000_000_000; // ms since the epoch

t.test('a rate change is continuous, a step is a step', async (t) => {
  const slow = changed(trueClock(T0), T0 + 1000, { rate: 0.25 });
  t.equal(fakeAt(slow, T0 + 1000), T0 + 1000, 'the new line starts where the true clock was');
  t.equal(fakeAt(slow, T0 + 5000), T0 + 1000 + 1000, '4 s later the slow clock advanced 1 s');
  t.equal(offsetAt(slow, T0 + 5000), -3000, 'and is 3 s behind');
  const stepped = changed(slow, T0 + 5000, { stepMs: 2000 });
  t.equal(stepped.rate, 0.25, 'a step keeps the rate');
  t.equal(fakeAt(stepped, T0 + 5000), T0 + 4000, 'and moves the clock by 2 s at once');
  t.ok(isTrue(changed(changed(trueClock(T0), T0, { stepMs: 500 }), T0 + 10, { stepMs: -500 })), 'stepping back what was stepped forward is the true clock');
  t.throws(() => changed(trueClock(T0), T0, { rate: 0 }), /positive/);
  t.throws(() => changed(trueClock(T0), T0, { rate: Number.NaN }), /positive/);
  t.equal(describe(slow, T0 + 5000), 'x0.25, -3.00 s');
});

t.test('the libfaketime setting', async (t) => {
  t.equal(faketimeSpec(trueClock(T0), T0 + 123), '+0 x1', 'the true clock needs no anchor');
  const slow = changed(trueClock(T0), T0, { rate: 0.04 });
  // Anchored 2 ms ahead of the plan, so that the replica never reads less than before.
  t.equal(faketimeSpec(slow, T0 + 1000), `@${((T0 + 40 + 2) / 1000).toFixed(6)} x0.04`);
  t.equal(faketimeSpec(changed(trueClock(T0), T0, { stepMs: -1500 }), T0), `@${((T0 - 1500 + 2) / 1000).toFixed(6)} x1`);
  t.match(faketimeSpec(changed(trueClock(T0), T0, { rate: 1 / 3 }), T0), / x0\.333333$/, 'rates with at most six decimals');
});
