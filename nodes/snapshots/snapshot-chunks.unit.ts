/**
 * Snapshots written and restored chunk by chunk (snapshot-chunks.ts, snapshot-jobs.ts): a state
 * larger than many chunks, changing while it is written, restores to the state at the cut; each
 * chunk restores by itself; a cancelled job leaves nothing behind.
 */
import t from 'tap';
import pino from 'pino';
import { KvStateMachine } from '../../protocols/kv/state-machine.js';
import { decodeChunk, restoreSnapshot, writeSnapshot } from './snapshot-chunks.js';
import { SnapshotJobs } from './snapshot-jobs.js';

function filled(keys: number): KvStateMachine {
  const sm = new KvStateMachine();
  for (let k = 0; k < keys; k++) sm.apply({ operation: { op: 'put', key: `key${k}`, value: `value-${k}`.padEnd(100, '.') }, session: { clientId: `c${k % 50}`, seq: k + 1 } });
  return sm;
}

t.test('a state of many chunks, changing while written, restores to the state at the cut', async (t) => {
  const sm = filled(5000);
  const expected = sm.snapshot();
  const chunks = new Map<number, Uint8Array>();
  let k = 0;
  const count = await writeSnapshot(sm.openCut(), { maxChunkBytes: 4096, sliceMs: 1 }, async (chunk, bytes) => {
    chunks.set(chunk, bytes.slice()); // lent until this promise settles
    // The replica goes on applying commands between chunks.
    for (let j = 0; j < 20; j++, k++) sm.apply({ operation: k % 3 === 0 ? { op: 'delete', key: `key${k}` } : { op: 'put', key: `key${k}`, value: 'changed' }, session: null });
  });
  t.ok(count !== null && count > 50, `${count} chunks`);
  t.ok([...chunks.values()].every((c) => c.byteLength < 2 * 4096), 'each about maxChunkBytes');
  t.ok([...chunks.values()].every((c) => decodeChunk(c).length > 0), 'each decodes by itself');
  const restored = await restoreSnapshot(count ?? 0, async (chunk) => chunks.get(chunk) as Uint8Array, { sliceMs: 1 });
  t.same(restored?.snapshot(), expected, `the state at the cut, though ${k} commands were applied while it was written`);
});

t.test('large values: chunks stay near maxChunkBytes, far below a peer frame', async (t) => {
  const sm = new KvStateMachine();
  const big = 'v'.repeat(1024 * 1024); // the HTTP API's largest value
  for (let k = 0; k < 40; k++) sm.apply({ operation: { op: 'put', key: `big${k}`, value: big }, session: null });
  const sizes: number[] = [];
  const chunks = new Map<number, Uint8Array>();
  const count = await writeSnapshot(sm.openCut(), { maxChunkBytes: 1024 * 1024 }, async (chunk, bytes) => {
    sizes.push(bytes.byteLength);
    chunks.set(chunk, bytes.slice());
  });
  t.ok(Math.max(...sizes) < 3 * 1024 * 1024, `largest chunk ${Math.max(...sizes)} bytes of ${count}`);
  const restored = await restoreSnapshot(count ?? 0, async (chunk) => chunks.get(chunk) as Uint8Array);
  t.same(restored?.snapshot(), sm.snapshot());
});

t.test('every chunk is built in the same lent buffer: a snapshot allocates no memory per chunk', async (t) => {
  const sm = filled(3000);
  const buffers = new Set<ArrayBufferLike>();
  const copies: Uint8Array[] = [];
  const count = await writeSnapshot(sm.openCut(), { maxChunkBytes: 4096 }, async (_c, bytes) => {
    buffers.add(bytes.buffer);
    copies.push(bytes.slice());
  });
  t.ok(count !== null && count > 20, `${count} chunks`);
  t.equal(buffers.size, 1, 'one buffer for all of them');
  const restored = await restoreSnapshot(count ?? 0, async (chunk) => copies[chunk] as Uint8Array);
  t.same(restored?.snapshot(), sm.snapshot(), 'and the copies restore the state');
});

t.test('an empty state is one chunk', async (t) => {
  const chunks: Uint8Array[] = [];
  const count = await writeSnapshot(new KvStateMachine().openCut(), { maxChunkBytes: 1024 }, async (_c, bytes) => void chunks.push(bytes.slice()));
  t.equal(count, 1);
  const restored = await restoreSnapshot(1, async () => chunks[0] as Uint8Array);
  t.equal(restored?.size, 0);
});

t.test('background jobs: take, then restore; a restore cancels a take; a failed restore is reported', async (t) => {
  const logger = pino({ level: 'silent' });
  const sm = filled(2000);
  const stored = new Map<number, Uint8Array>();
  let failed: unknown = null;
  const jobs = new SnapshotJobs({ logger, maxChunkBytes: 2048, sliceMs: 1, onRestoreFailed: (err) => (failed = err) });
  const saved = await new Promise<number>((resolve) => jobs.take(sm, async (c, b) => void stored.set(c, b.slice()), async (n) => resolve(n)));
  t.ok(saved > 1, `taken in ${saved} chunks`);
  await new Promise((r) => setImmediate(r));
  t.notOk(jobs.busy, 'the job is done');
  const restored = await new Promise<KvStateMachine>((resolve) => jobs.restore(saved, async (c) => stored.get(c), resolve));
  t.same(restored.snapshot(), sm.snapshot(), 'restored in the background');

  let took = false;
  jobs.take(filled(3000), async () => new Promise((r) => setTimeout(r, 5)), async () => void (took = true));
  t.ok(jobs.busy);
  const again = new Promise<KvStateMachine>((resolve) => jobs.restore(saved, async (c) => stored.get(c), resolve));
  t.ok(jobs.restoring, 'a restore replaces the snapshot being taken');
  await again;
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(took, 'the cancelled snapshot was never saved');

  jobs.restore(saved + 1, async (c) => stored.get(c), () => t.fail('restored from a missing chunk'));
  await new Promise((r) => setTimeout(r, 200));
  t.match(String(failed), /missing/, 'a missing chunk fails the restore, and says so');
});
