import t from 'tap';
import { ReconnectBackoff } from './reconnect-backoff.js';

t.test('delays double up to the cap, jittered within [base/2, base]', async (t) => {
  const low = new ReconnectBackoff(50, 2000, () => 0);
  const high = new ReconnectBackoff(50, 2000, () => 1);
  const lows = Array.from({ length: 8 }, () => low.nextDelayMs());
  const highs = Array.from({ length: 8 }, () => high.nextDelayMs());
  t.same(highs, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
  t.same(lows, [25, 50, 100, 200, 400, 800, 1000, 1000]);
});

t.test('reset starts over after a successful connection', async (t) => {
  const b = new ReconnectBackoff(50, 2000, () => 1);
  b.nextDelayMs();
  b.nextDelayMs();
  b.reset();
  t.equal(b.nextDelayMs(), 50);
});

t.test('many failures never overflow the cap', async (t) => {
  const b = new ReconnectBackoff(50, 2000, () => 1);
  for (let i = 0; i < 200; i++) b.nextDelayMs();
  t.equal(b.nextDelayMs(), 2000);
});
