/**
 * The background work a replica does with snapshots of its state machine (Raft §7; Multi-Paxos
 * compaction), one job at a time, never holding the event loop for longer than a slice:
 *
 * - take: open a consistent cut of the state machine (O(1)), write it chunk by chunk through the
 *   store, then hand the chunk count to `saved`, which makes the snapshot durable and tells the
 *   core; the replica keeps applying commands meanwhile (the cut copies what changes);
 * - restore: rebuild a state machine from a stored snapshot's chunks, then hand it to `done`, which
 *   swaps it in; the replica keeps running its loop meanwhile and applies what commits once the
 *   restore is done.
 *
 * Its `policy` (snapshot-policy.ts) counts the bytes of each snapshot taken or restored here; the
 * replica adds what it applies and asks `policy.due` before it takes one.
 *
 * A restore cancels a snapshot being taken (the state it cut is about to be replaced) and an
 * earlier restore. A job that fails is logged and dropped: a failed take is retried at the next
 * compaction point; a failed restore leaves the replica unable to serve, so the replica stops.
 */
import type { Logger } from 'pino';
import type { KvStateMachine } from '../../protocols/kv/state-machine.js';
import { restoreSnapshot, writeSnapshot } from './snapshot-chunks.js';
import { SnapshotPolicy } from './snapshot-policy.js';

export interface SnapshotJobsOptions {
  logger: Logger;
  maxChunkBytes: number;
  sliceMs?: number;
  /** The policy's ratio: applied log bytes per snapshot byte before the next snapshot. */
  snapshotLogRatio?: number;
  /** Called when a restore fails: the state machine cannot be trusted (default: exit 70). */
  onRestoreFailed?: (err: unknown) => void;
}

interface Job {
  kind: 'take' | 'restore';
  cancelled: boolean;
  startedMs: number;
}

export class SnapshotJobs {
  private job: Job | null = null;
  /** Durations of finished jobs in ms, for /metrics (the last one of each kind). */
  readonly last = { takeMs: 0, restoreMs: 0, takeChunks: 0 };
  /** When the next snapshot is worth taking (the sizes of the last one and of the log since). */
  readonly policy: SnapshotPolicy;

  constructor(private readonly opts: SnapshotJobsOptions) {
    this.policy = new SnapshotPolicy(opts.snapshotLogRatio);
  }

  get busy(): boolean {
    return this.job !== null;
  }

  get restoring(): boolean {
    return this.job?.kind === 'restore';
  }

  /** Seconds since the running job started (0 with none): for the `saved` and `done` callbacks. */
  elapsedSeconds(): number {
    return this.job === null ? 0 : (performance.now() - this.job.startedMs) / 1000;
  }

  /** Takes a snapshot of `sm` in the background (ignored while another job runs). */
  take(sm: KvStateMachine, write: (chunk: number, bytes: Uint8Array) => Promise<void>, saved: (chunks: number) => Promise<void>): void {
    if (this.job !== null) return;
    const job: Job = { kind: 'take', cancelled: false, startedMs: performance.now() };
    this.job = job;
    const cut = sm.openCut();
    this.policy.cutOpened();
    let written = 0;
    const counted = (chunk: number, bytes: Uint8Array): Promise<void> => {
      written += bytes.byteLength;
      return write(chunk, bytes);
    };
    let stored = false;
    void (async () => {
      const chunks = await writeSnapshot(cut, { maxChunkBytes: this.opts.maxChunkBytes, ...this.slice(), cancelled: () => job.cancelled }, counted);
      if (chunks === null || job.cancelled) return;
      await saved(chunks);
      stored = true;
      this.policy.stored(written);
      this.last.takeMs = performance.now() - job.startedMs;
      this.last.takeChunks = chunks;
    })()
      .catch((err: unknown) => this.opts.logger.error({ err }, 'taking a snapshot failed; it will be retried'))
      .finally(() => {
        // Cancelled by a restore, the policy has the restored snapshot's size already.
        if (!stored && !job.cancelled) this.policy.abandoned();
        this.finish(job);
      });
  }

  /** Restores a state machine from `chunks` chunks in the background; cancels any other job. */
  restore(chunks: number, read: (chunk: number) => Promise<Uint8Array | undefined>, done: (sm: KvStateMachine) => void): void {
    this.cancel();
    const job: Job = { kind: 'restore', cancelled: false, startedMs: performance.now() };
    this.job = job;
    const counted = countingReader((chunk) => readOrThrow(read, chunk));
    void (async () => {
      const sm = await restoreSnapshot(chunks, counted.read, { ...this.slice(), cancelled: () => job.cancelled });
      if (sm === null || job.cancelled) return;
      this.policy.installed(counted.bytes);
      this.last.restoreMs = performance.now() - job.startedMs;
      this.finish(job);
      done(sm);
    })().catch((err: unknown) => {
      this.finish(job);
      if (job.cancelled) return;
      this.opts.logger.fatal({ err }, 'restoring a snapshot failed; stopping the replica');
      (this.opts.onRestoreFailed ?? (() => process.exit(70)))(err);
    });
  }

  /** Restores a state machine before the replica serves (no job runs yet); throws if it cannot. */
  async restoreAtStart(chunks: number, read: (chunk: number) => Promise<Uint8Array>): Promise<KvStateMachine> {
    const counted = countingReader(read);
    const sm = await restoreSnapshot(chunks, counted.read);
    if (sm === null) throw new Error(`cannot restore a snapshot of ${chunks} chunks`);
    this.policy.installed(counted.bytes);
    return sm;
  }

  /** Stops the running job (its results are thrown away). */
  cancel(): void {
    if (this.job !== null) this.job.cancelled = true;
    this.job = null;
  }

  private finish(job: Job): void {
    if (this.job === job) this.job = null;
  }

  private slice(): { sliceMs?: number } {
    return this.opts.sliceMs === undefined ? {} : { sliceMs: this.opts.sliceMs };
  }
}

/** `read`, counting the bytes of every chunk it returns (the restored snapshot's size). */
function countingReader(read: (chunk: number) => Promise<Uint8Array>): { read: (chunk: number) => Promise<Uint8Array>; bytes: number } {
  const counted = {
    bytes: 0,
    read: async (chunk: number): Promise<Uint8Array> => {
      const data = await read(chunk);
      counted.bytes += data.byteLength;
      return data;
    },
  };
  return counted;
}

async function readOrThrow(read: (chunk: number) => Promise<Uint8Array | undefined>, chunk: number): Promise<Uint8Array> {
  const bytes = await read(chunk);
  if (bytes === undefined) throw new Error(`snapshot chunk ${chunk} is missing from the store`);
  return bytes;
}
