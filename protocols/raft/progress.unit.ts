/** Per-follower flow control (progress.ts, inflights.ts) and vote counting (vote-tally.ts). */
import t from 'tap';
import { Inflights } from './inflights.js';
import { Progress } from './progress.js';
import { VoteTally } from './vote-tally.js';

t.test('inflights: a bounded FIFO freed by acknowledgements', async (t) => {
  const window = new Inflights(3);
  for (const last of [5, 7, 9]) window.add(last);
  t.ok(window.full());
  t.throws(() => window.add(10));
  window.freeUpTo(7);
  t.equal(window.size, 1);
  window.add(12);
  window.add(15);
  window.freeUpTo(100);
  t.equal(window.size, 0);
});

t.test('probe: one message, then wait; a heartbeat timeout allows a resend', async (t) => {
  const pr = new Progress(5, 4);
  t.equal(pr.nextSend(10, 0), 'entries');
  pr.onSent(6, true, 0);
  t.equal(pr.nextSend(10, 0), null, 'waiting for the answer');
  t.equal(pr.nextIndex, 5, 'probing does not move nextIndex');
  pr.onHeartbeatTimeout();
  t.equal(pr.nextSend(10, 0), 'entries', 'the probe may be lost: send it again');
});

t.test('replicate: optimistic nextIndex and a window of maxInflightAppends', async (t) => {
  const pr = new Progress(5, 2);
  pr.onAccepted(4);
  t.equal(pr.state, 'replicate');
  pr.onSent(6, true, 0);
  pr.onSent(8, true, 0);
  t.equal(pr.nextIndex, 9);
  t.equal(pr.nextSend(20, 0), null, 'window full');
  pr.onHeartbeatTimeout();
  t.equal(pr.nextSend(20, 0), 'empty', 'a heartbeat still goes out, outside the window');
  pr.onSent(8, false, 0);
  pr.onAccepted(6);
  t.equal(pr.nextSend(20, 0), 'entries', 'an ack reopens the window');
  t.equal(pr.inflight.size, 1);
});

t.test('rejection returns to probe at the hinted index', async (t) => {
  const pr = new Progress(5, 2);
  pr.onAccepted(4);
  pr.onSent(8, true, 0);
  pr.onRejected(6);
  t.equal(pr.state, 'probe');
  t.equal(pr.nextIndex, 6);
  t.equal(pr.inflight.size, 0);
  t.equal(pr.nextSend(10, 0), 'entries');
});

t.test('a commit advance is news for an idle follower', async (t) => {
  const pr = new Progress(5, 2);
  pr.onAccepted(4);
  t.equal(pr.nextSend(4, 4), 'empty');
  pr.onSent(4, false, 4);
  t.equal(pr.nextSend(4, 4), null);
});

t.test('vote tally: majority wins, a blocking minority of rejections loses, duplicates count once', async (t) => {
  const tally = new VoteTally(['a', 'b', 'c', 'd', 'e']);
  tally.record('a', true);
  tally.record('a', true);
  tally.record('b', true);
  t.equal(tally.result(), 'pending');
  tally.record('c', true);
  t.equal(tally.result(), 'won');
  const losing = new VoteTally(['a', 'b', 'c']);
  losing.record('a', true);
  losing.record('b', false);
  t.equal(losing.result(), 'pending');
  losing.record('c', false);
  t.equal(losing.result(), 'lost');
});

t.test('vote tally: dissertation §4.1, only voters of the configuration count', async (t) => {
  const tally = new VoteTally(['a', 'b', 'c']);
  tally.record('a', true);
  tally.record('x', true); // a learner or a removed server
  tally.record('y', true);
  t.equal(tally.result(), 'pending');
  tally.record('b', true);
  t.equal(tally.result(), 'won');
});
