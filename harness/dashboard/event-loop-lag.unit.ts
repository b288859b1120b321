import t from 'tap';
import { LagTracker, STALL_MS } from './event-loop-lag.js';

const bounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A replica's /metrics as nodes/event-loop-delay.ts writes it: `delays` (seconds) so far, the window's p99 and max. */
function metricsText(delays: number[], p99: number, max: number): string {
  const lines = ['# HELP consensus_event_loop_delay_seconds Delay.', '# TYPE consensus_event_loop_delay_seconds histogram'];
  for (const le of bounds) lines.push(`consensus_event_loop_delay_seconds_bucket{le="${le}",replica="n1"} ${delays.filter((d) => d <= le).length}`);
  lines.push(`consensus_event_loop_delay_seconds_bucket{le="+Inf",replica="n1"} ${delays.length}`);
  lines.push(`consensus_event_loop_delay_seconds_sum{replica="n1"} ${delays.reduce((a, b) => a + b, 0)}`);
  lines.push(`consensus_event_loop_delay_seconds_count{replica="n1"} ${delays.length}`);
  lines.push('# TYPE consensus_event_loop_delay_p99_seconds gauge', `consensus_event_loop_delay_p99_seconds{replica="n1"} ${p99}`);
  lines.push('# TYPE consensus_event_loop_delay_max_seconds gauge', `consensus_event_loop_delay_max_seconds{replica="n1"} ${max}`);
  return lines.join('\n') + '\n';
}

const quiet = Array.from({ length: 100 }, () => 0.0002);

t.test('reads become points; a new delay over 50 ms is a stall, the first read never is', async (t) => {
  const lag = new LagTracker();
  t.equal(lag.view(), undefined, 'nothing before the first read');
  t.ok(lag.update(metricsText([...quiet, 0.3], 0.0004, 0.3), 7, 1000));
  t.same(lag.view(), { points: [{ timeMs: 1000, p99Ms: 0.4, maxMs: 300 }], lastStall: null }, 'start-up delays are not a stall');
  lag.update(metricsText([...quiet, 0.3, ...quiet], 0.0003, 0.0009), 7, 2000);
  t.equal(lag.view()?.lastStall, null, 'quiet second');
  lag.update(metricsText([...quiet, 0.3, ...quiet, 0.09], 0.09, 0.09), 7, 3000);
  t.same(lag.view()?.lastStall, { timeMs: 3000, ms: 90, atLeast: false }, 'a 90 ms stall, its size from the window max');
  t.equal(lag.view()?.points.length, 3);
});

t.test('a stall in a window the reads missed is still found, by the histogram, as a lower bound', async (t) => {
  const lag = new LagTracker();
  lag.update(metricsText(quiet, 0.0003, 0.0005), 7, 1000);
  lag.update(metricsText([...quiet, 0.4, ...quiet], 0.0003, 0.0005), 7, 3000);
  t.same(lag.view()?.lastStall, { timeMs: 3000, ms: 250, atLeast: true }, 'over the 250 ms bound');
  lag.update(metricsText([...quiet, 0.4, ...quiet, 0.03], 0.03, 0.03), 7, 4000);
  t.equal(lag.view()?.lastStall?.timeMs, 3000, `30 ms is under ${STALL_MS} ms: no new stall`);
});

t.test('a restarted process starts a new history; no event-loop metrics, no view', async (t) => {
  const lag = new LagTracker();
  lag.update(metricsText([...quiet, 0.2], 0.0003, 0.0005), 7, 1000);
  lag.update(metricsText([...quiet, 0.2, 0.2], 0.2, 0.2), 7, 2000);
  t.ok(lag.view()?.lastStall !== null);
  lag.update(metricsText(quiet.slice(0, 5), 0.0003, 0.0005), 8, 3000);
  t.same(lag.view(), { points: [{ timeMs: 3000, p99Ms: 0.3, maxMs: 0.5 }], lastStall: null }, 'pid 8: counters restarted, history too');
  for (let i = 0; i < 40; i++) lag.update(metricsText(quiet, 0.0003, 0.0005), 8, 4000 + i);
  t.equal(lag.view()?.points.length, 30, 'the last 30 reads are kept');

  const none = new LagTracker();
  t.equal(none.update('# TYPE up gauge\nup 1\n', 7, 1000), false);
  t.equal(none.view(), undefined);
  t.throws(() => none.update('up{', 7, 1000), 'invalid text is refused');
});
