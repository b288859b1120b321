/**
 * The event-loop delay histogram (nodes/event-loop-delay.ts) against real stalls of this test's
 * own event loop: busy loops of 150 ms, one in the middle of a window and one right after a
 * window ends (where monitorEventLoopDelay's reset() alone would lose it).
 */
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { EventLoopDelay } from './event-loop-delay.js';
import { histogramOf, parsePromText, sampleValue } from '../harness/client/prom-text.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const busy = (ms: number) => {
  const start = performance.now();
  while (performance.now() - start < ms) {
    // stall
  }
};

/** Windows end only when the test says (fold()), never on the timer. */
function monitor(t: Test) {
  const registry = new Registry();
  const delay = new EventLoopDelay(registry, { windowMs: 600_000 });
  t.teardown(() => delay.close());
  const read = async () => {
    const f = parsePromText(await registry.metrics());
    const h = histogramOf(f, 'consensus_event_loop_delay_seconds')!;
    const over = (le: number) => h.count - (h.buckets.find((b) => b.le === le)?.count ?? 0);
    return { count: h.count, over100ms: over(0.1), over5s: over(5), max: sampleValue(f, 'consensus_event_loop_delay_max_seconds') ?? 0 };
  };
  return { delay, read };
}

t.test('a stall inside a window: one sample over 100 ms, and the window max', async (t) => {
  const { delay, read } = monitor(t);
  await sleep(60);
  busy(150);
  await sleep(60);
  delay.fold();
  const r = await read();
  t.ok(r.count >= 2, `samples of the 10 ms timer (${r.count})`);
  t.ok(r.over100ms >= 1 && r.over100ms <= 2, `the stall, not counted twice (${r.over100ms} over 100 ms)`);
  t.equal(r.over5s, 0);
  t.ok(r.max >= 0.13 && r.max < 1, `max ${r.max} s: about the 150 ms stall`);
});

t.test('a stall right after a window ends is recovered from the time no sample covers', async (t) => {
  const { delay, read } = monitor(t);
  await sleep(60);
  delay.fold(); // reset(): the monitor forgets its last firing
  busy(150); // so this interval is never recorded by the monitor
  await sleep(60);
  delay.fold();
  const r = await read();
  t.ok(r.over100ms >= 1, `the stall is in the histogram (${r.over100ms} over 100 ms)`);
  t.ok(r.max >= 0.12 && r.max < 1, `and is the window's max (${r.max} s, exact to the 10 ms resolution)`);
});

t.test('close() stops the monitor and the window timer', async (t) => {
  const registry = new Registry();
  const delay = new EventLoopDelay(registry, { windowMs: 20 });
  await sleep(100);
  delay.close();
  const before = histogramOf(parsePromText(await registry.metrics()), 'consensus_event_loop_delay_seconds')!.count;
  t.ok(before > 0, 'windows folded while open');
  await sleep(100);
  t.equal(histogramOf(parsePromText(await registry.metrics()), 'consensus_event_loop_delay_seconds')!.count, before, 'nothing after close');
});
