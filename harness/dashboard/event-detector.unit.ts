import t from 'tap';
import type { DashboardSnapshot, ReplicaView } from './dashboard-types.js';
import { agreedLeader, detectEvents } from './event-detector.js';

function replica(id: string, role: string, leader: string | null, term: number, extra: Partial<ReplicaView> = {}): ReplicaView {
  return {
    id,
    httpUrl: `http://x/${id}`,
    process: 'up',
    stale: false,
    error: null,
    state: { protocol: 'raft', id, pid: 1, role, leader, epoch: term, epochLabel: `term ${term}`, commitIndex: 0, appliedIndex: 0, timeMs: 0, term, votedFor: null, lastLogIndex: 0, snapshotIndex: 0, log: [] },
    ...extra,
  };
}

function snap(replicas: ReplicaView[], links: DashboardSnapshot['links'] = null): DashboardSnapshot {
  return { protocol: 'raft', timeMs: 0, leader: agreedLeader(replicas), replicas, links, commitIndex: 0, commitsPerSec: 0, load: { running: false, points: [] } };
}

t.test('agreedLeader needs a claim that a majority (or every running replica) agrees with', async (t) => {
  t.equal(agreedLeader([replica('n1', 'leader', 'n1', 2), replica('n2', 'follower', 'n1', 2), replica('n3', 'follower', null, 2)]), 'n1');
  t.equal(agreedLeader([replica('n1', 'leader', 'n1', 2), replica('n2', 'follower', 'n3', 2), replica('n3', 'follower', null, 2)]), null, 'one vote of three');
  t.equal(
    agreedLeader([replica('n1', 'leader', 'n1', 2), replica('n2', 'leader', 'n2', 3), replica('n3', 'follower', 'n2', 3)]),
    'n2',
    'a deposed leader that has not heard yet loses to the newer term',
  );
  t.equal(agreedLeader([replica('n1', 'leader', 'n1', 2, { process: 'killed' }), replica('n2', 'follower', 'n1', 2), replica('n3', 'follower', 'n1', 2)]), null, 'a killed leader leads nobody');
  t.equal(agreedLeader([replica('n1', 'leader', 'n1', 2), replica('n2', 'follower', 'n1', 2, { stale: true }), replica('n3', 'follower', 'n1', 2, { process: 'paused' })]), 'n1', 'every running replica agrees');
});

t.test('a kill, an election and the new leader become timeline events', async (t) => {
  const a = snap([replica('n1', 'leader', 'n1', 2), replica('n2', 'follower', 'n1', 2), replica('n3', 'follower', 'n1', 2)]);
  const b = snap([replica('n1', 'leader', 'n1', 2, { process: 'killed', stale: true }), replica('n2', 'candidate', null, 3), replica('n3', 'follower', null, 2)]);
  const c = snap([replica('n1', 'leader', 'n1', 2, { process: 'killed', stale: true }), replica('n2', 'leader', 'n2', 3), replica('n3', 'follower', 'n2', 3)]);
  t.same(detectEvents(null, a), [{ kind: 'leader', text: 'leader n1 (term 2)' }]);
  t.same(detectEvents(a, b), [
    { kind: 'process', text: 'n1 killed', replica: 'n1' },
    { kind: 'epoch', text: 'n2: term 2 → term 3', replica: 'n2' },
    { kind: 'election', text: 'n2 starts an election (term 3)', replica: 'n2' },
    { kind: 'leader', text: 'no leader (was n1)' },
  ]);
  t.same(detectEvents(b, c), [
    { kind: 'election', text: 'n2 won the election (term 3)', replica: 'n2' },
    { kind: 'epoch', text: 'n3: term 2 → term 3', replica: 'n3' },
    { kind: 'leader', text: 'leader none → n2 (term 3)' },
  ]);
});

t.test('a restarted process (new pid) is not compared with its previous life', async (t) => {
  const a = snap([replica('n1', 'follower', 'n2', 5)]);
  const restarted = replica('n1', 'follower', null, 5);
  restarted.state!.pid = 2;
  t.same(detectEvents(a, snap([restarted])), []);
});

t.test('links cut and healed, in one or both directions', async (t) => {
  const ids = [replica('n1', 'follower', null, 1), replica('n2', 'follower', null, 1)];
  const pass = snap(ids, [{ a: 'n1', b: 'n2', ab: 'pass', ba: 'pass' }]);
  const cut = snap(ids, [{ a: 'n1', b: 'n2', ab: 'blackhole', ba: 'blackhole' }]);
  const half = snap(ids, [{ a: 'n1', b: 'n2', ab: 'pass', ba: 'refuse' }]);
  t.same(detectEvents(pass, cut), [{ kind: 'fault', text: 'link n1–n2 cut (blackhole)' }]);
  t.same(detectEvents(cut, half), [{ kind: 'fault', text: 'link n1–n2 n2→n1 cut (refuse)' }]);
  t.same(detectEvents(half, pass), [{ kind: 'heal', text: 'link n1–n2 healed' }]);
  t.same(detectEvents(pass, pass), []);
});

t.test('an event-loop stall is on the timeline once per run of stalls', async (t) => {
  const at = (lastStall: { timeMs: number; ms: number; atLeast: boolean } | null) =>
    snap([replica('n1', 'leader', 'n1', 2, { lag: { points: [{ timeMs: 0, p99Ms: 1, maxMs: 1 }], lastStall } })]);
  const quiet = at(null);
  const first = at({ timeMs: 1000, ms: 96, atLeast: false });
  const again = at({ timeMs: 2000, ms: 300, atLeast: true });
  const later = at({ timeMs: 40_000, ms: 60, atLeast: false });
  t.same(detectEvents(quiet, first), [{ kind: 'stall', text: 'n1: event loop stalled 96 ms', replica: 'n1' }]);
  t.same(detectEvents(first, first), [], 'the same stall read again');
  t.same(detectEvents(first, again), [], 'a stall a second after another: the card shows it');
  t.same(detectEvents(again, later), [{ kind: 'stall', text: 'n1: event loop stalled 60 ms', replica: 'n1' }], 'a new run');
  t.same(detectEvents(quiet, at({ timeMs: 1, ms: 100, atLeast: true })), [{ kind: 'stall', text: 'n1: event loop stalled over 100 ms', replica: 'n1' }]);
});
