/**
 * Time slicing (time-slice.ts): forEachInSlices makes the same calls in the same order as a plain
 * loop, and gives the event loop back between slices, so a timer queued before it runs in the
 * middle of the work and not after it.
 */
import t from 'tap';
import { forEachInSlices, TimeSlice } from './time-slice.js';

t.test('the same steps in the same order as a plain loop, over several turns', async (t) => {
  const seen: number[] = [];
  let atTimer = -1;
  setImmediate(() => (atTimer = seen.length));
  await forEachInSlices(3, 1003, (i) => void seen.push(i), new TimeSlice(0));
  t.same(seen, Array.from({ length: 1000 }, (_, k) => k + 3), 'every index once, in order');
  t.ok(atTimer > 0 && atTimer < 1000, `a callback queued before ran after ${atTimer} of 1000 steps`);
});

t.test('within its slice the work stays in one turn', async (t) => {
  let steps = 0;
  let atTimer = -1;
  setImmediate(() => (atTimer = steps));
  await forEachInSlices(0, 1000, () => void steps++, new TimeSlice(1e9));
  await new Promise((r) => setImmediate(r));
  t.equal(atTimer, 1000, 'the callback ran only once every step was done');
});

t.test('an empty range does nothing', async (t) => {
  let steps = 0;
  await forEachInSlices(5, 5, () => void steps++, new TimeSlice(0));
  await forEachInSlices(5, 2, () => void steps++, new TimeSlice(0));
  t.equal(steps, 0);
});
