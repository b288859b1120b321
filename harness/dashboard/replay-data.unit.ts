import t from 'tap';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReplay } from './replay-data.js';
import { frameAt, linkFrames, nodeFrames } from './replay-frames.js';
import { listRuns, loadRun } from './store-runs.js';

const ms = 1e6;
const history = [
  { process: 0, type: 'invoke', f: 'write', key: 'k1', value: '1', time: 1 * ms, node: 'n1' },
  { process: 1, type: 'invoke', f: 'read', key: 'k1', value: null, time: 2 * ms, node: 'n2' },
  { process: 0, type: 'ok', f: 'write', key: 'k1', value: '1', time: 5 * ms, node: 'n1' },
  { process: 'nemesis', type: 'info', f: 'start-kill', value: { id: 1, nodes: ['n3'] }, time: 6 * ms },
  { process: 1, type: 'ok', f: 'read', key: 'k1', value: '9', time: 8 * ms, node: 'n2' },
  { process: 2, type: 'invoke', f: 'cas', key: 'k1', value: ['1', '2'], time: 9 * ms, node: 'n3' },
]
  .map((e) => JSON.stringify(e))
  .join('\n');

const results = {
  verdict: 'invalid' as const,
  options: { protocol: 'raft', seed: 7, nemesis: ['kill', 'partition'], nodes: 3 },
  runStartMs: 0.5,
  healMs: 9,
  endMs: 10,
  periods: [{ id: 1, fault: 'kill', targets: ['n3'], startMs: 6, endMs: 8, detail: {} }],
  linkEvents: [
    { timeMs: 3, links: [['n1', 'n2'], ['n2', 'n1']] as Array<[string, string]>, change: 'blackhole isolate: n1 | n2 n3' },
    { timeMs: 4, links: [['n3', 'n1']] as Array<[string, string]>, change: 'refuse' },
    { timeMs: 4.5, links: [], change: 'shape {"delayMs":50}' },
    { timeMs: 7, links: [], change: 'heal partitions' },
  ],
  linearizability: {
    valid: false,
    keys: [],
    stats: { ops: 3, keys: 1, elapsedMs: 1.5 },
    violation: {
      key: 'k1',
      ops: [{ process: 1, f: 'read', key: 'k1', value: '9', status: 'ok', invokeTime: 2 * ms, returnTime: 8 * ms, reason: 'no write of "9"' }],
      returnedFirst: { process: 1, f: 'read', key: 'k1', value: '9', status: 'ok', invokeTime: 2 * ms, returnTime: 8 * ms },
      prefix: [],
      stateBefore: null,
      stateAfter: '1',
    },
  },
  lostWrites: { valid: true, lost: [], divergent: [], unexplained: [], acknowledgedWrites: 1, notes: [] },
};

t.test('buildReplay pairs operations, marks the violation and keeps the faults', async (t) => {
  const r = buildReplay('raft-1', results as never, history + '\n{"torn');
  t.equal(r.verdict, 'invalid');
  t.same(r.ids, ['n1', 'n2', 'n3']);
  t.equal(r.ops.length, 3);
  t.match(r.ops[0], { process: 0, f: 'write', type: 'ok', startMs: 1, endMs: 5, violation: false });
  t.match(r.ops[1], { process: 1, f: 'read', result: '9', type: 'ok', violation: true });
  t.match(r.ops[2], { process: 2, f: 'cas', type: 'info', endMs: null }, 'never completed: unknown outcome');
  t.same(r.nemesisEvents, [{ timeMs: 6, f: 'start-kill', value: { id: 1, nodes: ['n3'] } }]);
  t.match(r.violation, { key: 'k1', stateAfter: '1', ops: [{ process: 1, startMs: 2, endMs: 8, reason: 'no write of "9"' }] });
  t.match(r.linearizability, { valid: false, ops: 3 });
  const b = r.buckets;
  t.equal(b.ok.reduce((x, y) => x + y, 0) + b.info.reduce((x, y) => x + y, 0), 3, 'every operation is in a bucket');
});

t.test('a run without results.json replays as unchecked', async (t) => {
  const r = buildReplay('raft-2', null, history);
  t.equal(r.verdict, 'unchecked');
  t.equal(r.violation, null);
  t.same(r.ids, ['n1', 'n2', 'n3']);
  t.match(r.summary[0], /did not finish/);
});

t.test('link frames follow shapes, per-link modes and heals', async (t) => {
  const frames = linkFrames(results.linkEvents);
  t.same(frameAt(frames, 0)?.cut, []);
  t.same(frameAt(frames, 3.5)?.cut, [['n1', 'n2'], ['n2', 'n1']]);
  t.same(frameAt(frames, 5)?.cut, [['n1', 'n2'], ['n2', 'n1'], ['n3', 'n1']], 'setMode adds to the cut, shaping changes nothing');
  t.same(frameAt(frames, 8)?.cut, []);
  t.equal(frames.length, 4);
});

t.test('node frames mark killed and paused replicas for the length of their fault', async (t) => {
  const frames = nodeFrames(
    [
      { id: 1, fault: 'kill', targets: ['n3'], startMs: 6, endMs: 8, detail: {} },
      { id: 2, fault: 'pause', targets: ['n1'], startMs: 7, endMs: null, detail: {} },
      { id: 3, fault: 'partition', targets: ['n2'], startMs: 1, endMs: 2, detail: {} },
    ],
    10,
  );
  t.same(frameAt(frames, 5)?.down, {});
  t.same(frameAt(frames, 6)?.down, { n3: 'killed' });
  t.same(frameAt(frames, 7.5)?.down, { n3: 'killed', n1: 'paused' });
  t.same(frameAt(frames, 9)?.down, { n1: 'paused' });
  t.same(frameAt(frames, 10)?.down, {});
});

t.test('store runs: listed newest first, loaded by name, never outside the folder', async (t) => {
  const store = await mkdtemp(join(tmpdir(), 'dashboard-store-'));
  t.teardown(() => rm(store, { recursive: true, force: true }));
  await mkdir(join(store, 'raft-a'));
  await writeFile(join(store, 'raft-a', 'history.jsonl'), history);
  await writeFile(join(store, 'raft-a', 'results.json'), JSON.stringify({ ...results, startedAt: '2026-01-01T00:00:00Z' }));
  await mkdir(join(store, 'paxos-b'));
  await writeFile(join(store, 'paxos-b', 'history.jsonl'), history);
  await mkdir(join(store, 'empty'));
  await symlink('raft-a', join(store, 'latest'));
  const runs = await listRuns(store);
  t.same(
    runs.map((r) => [r.name, r.verdict]),
    [
      ['paxos-b', 'unchecked'],
      ['raft-a', 'invalid'],
    ],
  );
  t.equal((await loadRun(store, 'raft-a')).ops.length, 3);
  await t.rejects(loadRun(store, '..'), /not a run/);
  await t.rejects(loadRun(store, '../etc'), /not a run/);
  await t.rejects(loadRun(store, 'nope'));
  t.same(await listRuns(join(store, 'missing')), []);
});
