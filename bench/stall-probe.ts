/**
 * Stall probe (issue 13, "Fast off the happy path"): how long one event-loop turn can last while a
 * replica does the work whose cost grows with its state or its log, at 100,000 and 1,000,000 keys
 * of 256 B. Each step runs alone, with the event loop watched by a 1 ms timer
 * (perf_hooks.monitorEventLoopDelay, what /metrics exports) and every GC pause recorded:
 *
 * - fill: the state machine applies N puts through client sessions (setup, in slices);
 * - cut: opening a consistent cut (protocols/kv/kv-cut.ts), one synchronous call;
 * - take: writing the cut as chunk files (nodes/snapshots/snapshot-chunks.ts, snapshot-files.ts)
 *   while puts keep being applied, then fsync'ing them;
 * - restore: rebuilding a state machine from those chunk files;
 * - raft log: persisting `snapshotEvery` entries, loading them back, and the compaction
 *   batch that deletes them (nodes/storage/leveldb-raft-log-store.ts), and the in-memory compaction
 *   (protocols/raft/log.ts);
 * - apply: handing a burst of committed entries to the state machine (a follower or a restarted
 *   replica catching up: Raft's Ready carries every entry committed since the last one), at once
 *   and in slices as the runtimes do (nodes/apply-slices.ts).
 *
 *   node --import tsx bench/stall-probe.ts [--keys 100000,1000000] [--entries 50000]
 *
 * It prints one line per step: the longest synchronous call it timed itself (`sync`), the event
 * loop's worst delay over the step (`loop max`), the longest GC pause and the step's total time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import pino from 'pino';
import { KvStateMachine } from '../protocols/kv/state-machine.js';
import { RaftLog } from '../protocols/raft/log.js';
import type { LogEntry } from '../protocols/raft/types.js';
import { applyEncodedCommand, encodeCommand } from '../nodes/command-codec.js';
import { restoreSnapshot, writeSnapshot } from '../nodes/snapshots/snapshot-chunks.js';
import { applyInSlices } from '../nodes/apply-slices.js';
import { SnapshotFiles } from '../nodes/storage/snapshot-files.js';
import { LevelDbRaftLogStore } from '../nodes/storage/leveldb-raft-log-store.js';

const VALUE = 'v'.repeat(256);
const CHUNK_BYTES = 1024 * 1024;
const logger = pino({ level: 'silent' });

interface StepResult {
  syncMs: number;
  loopMaxMs: number;
  gcMaxMs: number;
  totalMs: number;
}

/** Runs `work` with the event loop and GC watched; `work` reports its longest synchronous call. */
async function step(name: string, keys: number, work: (sync: (ms: number) => void) => Promise<void>): Promise<StepResult> {
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let syncMs = 0;
  const started = performance.now();
  await work((ms) => (syncMs = Math.max(syncMs, ms)));
  await new Promise((r) => setTimeout(r, 20)); // let the monitor see the last turn
  const totalMs = performance.now() - started;
  loop.disable();
  gc.disconnect();
  const result = { syncMs, loopMaxMs: loop.max / 1e6 - 1, gcMaxMs, totalMs };
  const f = (ms: number): string => ms.toFixed(1).padStart(8);
  console.log(`${String(keys).padStart(8)} keys  ${name.padEnd(26)} sync ${f(syncMs)} ms  loop max ${f(result.loopMaxMs)} ms  gc max ${f(gcMaxMs)} ms  total ${f(totalMs)} ms`);
  return result;
}

/** Times one synchronous call. */
function timed<T>(sync: (ms: number) => void, fn: () => T): T {
  const t0 = performance.now();
  const out = fn();
  sync(performance.now() - t0);
  return out;
}

const put = (k: number, seq: number): Parameters<KvStateMachine['apply']>[0] => ({
  operation: { op: 'put', key: `key-${k}`, value: VALUE },
  session: { clientId: `client-${seq % 100}`, seq: Math.floor(seq / 100) + 1 },
});

async function probe(keys: number, entries: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'stall-probe-'));
  try {
    let sm = new KvStateMachine();
    let seq = 0;
    await step('fill (setup)', keys, async () => {
      for (let k = 0; k < keys; k++) {
        sm.apply(put(k, seq++));
        if (k % 10_000 === 0) await new Promise((r) => setImmediate(r));
      }
    });

    const files = new SnapshotFiles(join(dir, 'snapshots'));
    let chunks = 0;
    await step('take: open cut + write', keys, async (sync) => {
      const cut = timed(sync, () => sm.openCut());
      // The replica keeps applying between chunks: a few puts per turn, which copy buckets.
      let applying = true;
      const applier = (async () => {
        while (applying) {
          for (let j = 0; j < 50; j++) sm.apply(put(Math.floor(Math.random() * keys), seq++));
          await new Promise((r) => setImmediate(r));
        }
      })();
      chunks = (await writeSnapshot(cut, { maxChunkBytes: CHUNK_BYTES }, (chunk, bytes) => files.write(1, chunk, bytes))) ?? 0;
      applying = false;
      await applier;
    });
    await step(`take: fsync ${chunks} chunks`, keys, () => files.sync(1, chunks));

    await step('restore', keys, async () => {
      const restored = await restoreSnapshot(chunks, async (chunk) => (await files.read(1, chunk)) as Uint8Array);
      if (restored === null || restored.size !== keys) throw new Error('restore lost keys');
      sm = restored; // the old state machine becomes garbage, as in the replica
    });

    await probeApply(keys, sm, entries);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A burst of `entries` committed commands, applied at once and in slices. */
async function probeApply(keys: number, sm: KvStateMachine, entries: number): Promise<void> {
  const burst: LogEntry[] = [];
  for (let i = 1; i <= entries; i++) burst.push({ index: i, term: 1, kind: 'command', data: encodeCommand(put(i % keys, 10_000_000 + i)) });
  const commands = burst.map((e) => e.data as Uint8Array);
  await step(`apply ${entries} at once`, keys, async (sync) => {
    timed(sync, () => {
      for (const data of commands) applyEncodedCommand(sm, data, logger);
    });
  });
  await step(`apply ${entries} in slices`, keys, async () => {
    // As the Raft runtime does it (nodes/raft/raft-replica.ts, cycle): parts of 64 entries.
    await applyInSlices(commands, 64, (part) => {
      for (const data of part) applyEncodedCommand(sm, data, logger);
    });
  });
}

/** The Raft log of `entries` entries on LevelDB: persist, load, compact; and the in-memory log. */
async function probeRaftLog(entries: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'stall-probe-log-'));
  try {
    const store = await LevelDbRaftLogStore.open(dir, { sync: false });
    const all: LogEntry[] = [];
    for (let i = 1; i <= entries; i++) all.push({ index: i, term: 1, kind: 'command', data: encodeCommand(put(i, i)) });
    await step(`raft log: persist ${entries}`, entries, async (sync) => {
      for (let i = 0; i < entries; i += 500) {
        const t0 = performance.now();
        const p = store.persist({ hardState: null, truncateFrom: null, entries: all.slice(i, i + 500) });
        sync(performance.now() - t0);
        await p;
      }
    });
    await store.close();
    const reopened = await LevelDbRaftLogStore.open(dir, { sync: false });
    let loaded: LogEntry[] = [];
    await step(`raft log: load ${entries}`, entries, async () => {
      loaded = (await reopened.load()).entries;
    });
    await step(`raft log: compact ${entries} (disk)`, entries, async (sync) => {
      const t0 = performance.now();
      const p = reopened.persist({ hardState: null, truncateFrom: null, entries: [], compactTo: entries - 10 });
      sync(performance.now() - t0);
      await p;
    });
    await reopened.close();
    await step(`raft log: compact ${entries} (memory)`, entries, async (sync) => {
      const log = new RaftLog(loaded);
      timed(sync, () => log.compact(entries - 10));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { keys: { type: 'string', default: '100000,1000000' }, entries: { type: 'string', default: '50000' } } });
const entries = Number(values.entries);
await probeRaftLog(entries);
for (const keys of values.keys.split(',').map(Number)) await probe(keys, entries);
