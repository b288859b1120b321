import t from 'tap';
import { MessageTap } from './message-tap.js';

t.test('counts every message but samples a few per link and second', async (t) => {
  let now = 1_000_000;
  const tap = new MessageTap('n1', { samplesPerSec: 10, burst: 5, nowMs: () => now });
  for (let i = 0; i < 100; i++) tap.hook('send', 'n2', { type: 'AppendEntries' });
  let read = tap.since(0);
  t.equal(read.messages.length, 5, 'a burst of 5, then nothing until tokens refill');
  t.equal(read.skipped, 95);
  t.same(read.counts.sent, { n2: { AppendEntries: 100 } });
  t.same(read.messages[0], { seq: 1, timeMs: now, dir: 'send', from: 'n1', to: 'n2', type: 'AppendEntries' });
  now += 1000;
  for (let i = 0; i < 100; i++) tap.hook('recv', 'n3', { type: 'Vote' });
  tap.hook('send', 'n2', 'not an object');
  read = tap.since(5);
  t.equal(read.messages.length, 6, 'every direction and peer has its own bucket; n2 refilled');
  t.same(read.messages[0], { seq: 6, timeMs: now, dir: 'recv', from: 'n3', to: 'n1', type: 'Vote' });
  t.equal(read.messages.at(-1)?.type, 'unknown');
  t.same(read.counts.received, { n3: { Vote: 100 } });
});

t.test('the ring buffer keeps the newest messages and since() caps its answer', async (t) => {
  let now = 0;
  const tap = new MessageTap('n1', { capacity: 10, samplesPerSec: 1000, burst: 1000, nowMs: () => now++ });
  for (let i = 0; i < 50; i++) tap.hook('send', 'n2', { type: 'X' });
  t.same(tap.since(0).messages.map((m) => m.seq), [41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
  t.same(tap.since(0, 3).messages.map((m) => m.seq), [48, 49, 50]);
  t.equal(tap.since(50).messages.length, 0);
  t.equal(tap.since(50).seq, 50);
});
