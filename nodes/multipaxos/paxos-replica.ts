import type { Logger } from 'pino';
import { randomInt } from 'node:crypto';
import { SeededRng } from '../../protocols/common/rng.js';
import type { KvResult } from '../../protocols/kv/commands.js';
import { formatBallot, sameBallot } from '../../protocols/multipaxos/ballot.js';
import { MultiPaxosNode } from '../../protocols/multipaxos/paxos-node.js';
import type { Ballot, Decision, PaxosMessage, Ready, ReadState, Snapshot, SnapshotChunk, SoftState } from '../../protocols/multipaxos/types.js';
import { ServiceError } from '../http/errors.js';
import type { PaxosTuning } from '../config.js';
import { isEmptyUpdate, type PaxosStore } from '../storage/leveldb-paxos-store.js';
import { SnapshotJobs } from '../snapshots/snapshot-jobs.js';
import type { Transport } from '../transport/index.js';
import type { ReplicaMetrics } from '../metrics.js';
import type { DiskStats } from '../replica-metrics.js';
import type { Waiter } from '../waiter-table.js';
import { applyEncodedCommand } from '../command-codec.js';
import { applyInSlices } from '../apply-slices.js';
import { isPaxosMessage } from './message-guard.js';
import { PaxosReplicaStats } from './paxos-replica-stats.js';
import type { DebugSource } from '../debug/debug-source.js';
import { paxosDebugState } from '../debug/paxos-debug-state.js';
import type { ProposeOutcome } from '../forwarding/forward-server.js';
import { ReplicaHost } from '../host/replica-host.js';

export interface PaxosReplicaOptions {
  id: string;
  replicas: string[];
  /** HTTP base URL of every replica, for forwarding to the leader. */
  httpUrls: Record<string, string>;
  tuning: PaxosTuning;
  store: PaxosStore;
  transport: Transport;
  logger: Logger;
  /** Answer linearizable reads from local state: deliberately unsafe, for the harness. */
  unsafeLocalReads?: boolean;
  /** The process's metrics registry (nodes/metrics.ts): this replica's counters go there. */
  metrics: ReplicaMetrics;
}

type PendingWrite = Waiter<KvResult>;
/**
 * The proposals waiting on one slot, by their position in the slot's batch (the core's propose()
 * says where each went): the one at position k gets the slot's k-th result, if the slot is decided
 * with the batch of the ballot that proposed it. A leader's own proposals and, on a follower, the
 * ones it forwarded (nodes/forwarding) wait the same way.
 */
interface SlotWaiters {
  ballot: Ballot;
  ids: number[];
}

/** Where a Multi-Paxos leader put a forwarded command: its slot, ballot and position in the batch. */
interface PaxosPlacement {
  slot: number;
  ballot: Ballot;
  position: number;
}

/** Decided slots applied between two looks at the clock (nodes/apply-slices.ts); a slot is a batch. */
const APPLY_PART_SLOTS = 4;

const isSafe = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isPlacement = (v: unknown): v is PaxosPlacement => {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as PaxosPlacement;
  return isSafe(p.slot) && isSafe(p.position) && typeof p.ballot === 'object' && p.ballot !== null && isSafe(p.ballot.round) && typeof p.ballot.leader === 'string';
};

/**
 * One Multi-Paxos replica: the pure core (protocols/multipaxos) driven by real time, a real disk
 * and real sockets (docs/design.md §3.2), with the same loop as the Raft replica (nodes/raft/
 * raft-replica.ts): inputs → core → ready() → send P2a/Decision/Heartbeat at once → persist the
 * acceptor state and decisions in one LevelDB batch → send P1b/P2b (and a new leader's P1a) →
 * apply decided slots → answer clients → advance().
 *
 * Snapshots never stop the loop (protocols/multipaxos/README.md, "Snapshots: the runtime's
 * half"): when the core wants one, a consistent cut of the state machine is written chunk by
 * chunk in time slices and saved, then reported (snapshotSaved); an installed one is restored
 * in the background while the loop goes on, the slots decided meanwhile applied once it is done;
 * chunks are sent to peers one at a time, read from LevelDB as they are asked for.
 *
 * Inputs that arrive while a batch is being persisted are queued and stepped together right
 * after it, so they share the next fsync (group commit) and, on the leader, the next slot
 * (the core batches every proposal made between two Readys into one slot).
 *
 * The KvService plumbing it shares with Raft (admission, deadlines, forwarding, reads, timers)
 * is the replica host's (nodes/host/replica-host.ts); what is here is Multi-Paxos's own. The
 * host's `appliedIndex` is the highest slot applied (slots apply in order, from 1), and its
 * write table is keyed by a sequence number, the slot's batch saying which waits where.
 */
export class PaxosReplica extends ReplicaHost<PaxosPlacement, PaxosMessage, PendingWrite> implements DebugSource {
  readonly protocol = 'multipaxos';
  readonly stats = new PaxosReplicaStats();
  /** Snapshots taken and restored in the background (nodes/snapshots). */
  private readonly snapshots: SnapshotJobs;
  /** Decided slots waiting for a snapshot being restored: applied once it is. */
  private deferred: Decision[] = [];
  private readonly slotWaiters = new Map<number, SlotWaiters>();
  private writeSeq = 0;
  private soft: SoftState;

  private constructor(
    private readonly opts: PaxosReplicaOptions,
    private readonly core: MultiPaxosNode,
    ballot: Ballot,
  ) {
    super({
      id: opts.id,
      loopName: 'multi-paxos',
      httpUrls: opts.httpUrls,
      tuning: opts.tuning.runtime,
      transport: opts.transport,
      logger: opts.logger,
      unsafeLocalReads: opts.unsafeLocalReads === true,
      isPeerMessage: isPaxosMessage,
      isPlacement,
      writeTimeout: 'not decided in time; the outcome is unknown',
    });
    this.soft = { role: 'follower', leader: null, ballot };
    this.snapshots = new SnapshotJobs({
      logger: opts.logger,
      maxChunkBytes: opts.tuning.runtime.maxSnapshotChunkBytes,
      snapshotLogRatio: opts.tuning.runtime.snapshotLogRatio,
    });
    this.stats.register(opts.metrics, {
      status: () => core.status(),
      commitIndex: () => this.commitIndex(),
      appliedIndex: () => this.appliedIndex,
      readsServed: () => this.reads.served,
      disk: (opts.store as { stats?: DiskStats }).stats ?? { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 },
      transport: opts.transport,
      forwarding: { client: this.forward.stats, server: this.forwarded.stats },
      snapshotJobs: this.snapshots.last,
    });
  }

  static async start(opts: PaxosReplicaOptions): Promise<PaxosReplica> {
    const disk = await opts.store.load();
    // The core's section (its GC rules decide when a snapshot is wanted: snapshotEvery).
    const config = { ...opts.tuning.core, id: opts.id, replicas: opts.replicas };
    const core = new MultiPaxosNode(config, new SeededRng(randomInt(2 ** 31)), disk);
    const replica = new PaxosReplica(opts, core, disk.ballotNum);
    // Restart = the stored snapshot, then the decisions after it (the core's first Ready).
    if (disk.snapshot !== null) await replica.restoreAtStart(disk.snapshot);
    opts.logger.info(
      {
        ballotNum: formatBallot(disk.ballotNum),
        accepted: disk.accepted.length,
        decisions: disk.decisions.length,
        snapshotSlot: disk.snapshot?.slot ?? 0,
      },
      'recovered multi-paxos state from disk',
    );
    replica.serve(() => replica.core.tick());
    return replica;
  }

  // ---- KvService (the rest is the host's) ------------------------------------------------

  leader(): string | null {
    return this.soft.leader;
  }

  // ---- the host's hooks: proposing, reading, waiting for a write -------------------------

  /** Requests go to this replica while it leads, whatever its view of `leader` says. */
  protected override requestTarget(): string | null {
    return this.soft.role === 'leader' ? this.id : this.soft.leader;
  }

  protected propose(data: Uint8Array): ProposeOutcome<PaxosPlacement> {
    return proposeOutcome(this.core.propose(data));
  }

  /** A quorum-confirmed read; Multi-Paxos has no leases, so `lease` changes nothing. */
  protected askReadIndex(ctx: number): void {
    this.core.readIndex(ctx);
  }

  protected step(message: PaxosMessage): void {
    this.core.step(message);
  }

  /** A forwarded write's slot: already applied here (its answer came after the decision), the outcome is unknown. */
  protected awaitForwarded(at: PaxosPlacement, deadlineMs: number): Promise<KvResult> {
    return new Promise<KvResult>((resolve, reject) => {
      if (at.slot <= this.appliedIndex) return reject(new ServiceError('TIMEOUT', 'decided before its slot was known; the outcome is unknown'));
      this.waitForWrite(at, { resolve, reject, deadlineMs });
    });
  }

  protected closeRuntime(): void {
    this.snapshots.cancel();
    this.slotWaiters.clear();
  }

  protected waitForWrite(at: PaxosPlacement, waiter: PendingWrite): void {
    let slot = this.slotWaiters.get(at.slot);
    if (slot !== undefined && !sameBallot(slot.ballot, at.ballot)) {
      // Waiters of an earlier ballot at this slot: that batch was dropped when its leader was
      // preempted, and a new ballot reuses the slot, so they can never be chosen.
      this.rejectSlot(slot);
      slot = undefined;
    }
    if (slot === undefined) {
      slot = { ballot: at.ballot, ids: [] };
      this.slotWaiters.set(at.slot, slot);
    }
    const id = ++this.writeSeq;
    slot.ids[at.position] = id;
    this.writes.add(id, waiter);
  }

  status(): Record<string, unknown> {
    const s = this.core.status();
    return {
      id: this.id,
      protocol: this.protocol,
      pid: process.pid,
      role: s.role === 'leader' ? 'leader' : 'follower',
      coreRole: s.role,
      leader: s.leader,
      ballot: { round: s.ballot.round, leader: s.ballot.leader },
      acceptorBallot: this.core.ballotNum,
      commitIndex: this.commitIndex(),
      appliedIndex: this.appliedIndex,
      slotIn: s.slotIn,
      slotOut: s.slotOut,
      decided: s.decided,
      inflight: s.inflight,
      compactedTo: s.compactedTo,
      snapshotSlot: s.snapshotSlot,
      // The snapshot policy's two sizes (nodes/snapshots/snapshot-policy.ts).
      logBytesSinceSnapshot: this.snapshots.policy.sizes.logBytes,
      snapshotBytes: this.snapshots.policy.sizes.snapshotBytes,
      snapshotsTaken: this.stats.snapshotsTaken,
      snapshotsInstalled: this.stats.snapshotsInstalled,
      fetchingSnapshot: s.fetching,
      restoringSnapshot: this.snapshots.restoring,
      keys: this.sm.size,
      pendingWrites: this.writes.size,
      pendingReads: this.reads.size,
    };
  }

  /** GET /admin/debug/state with --debug-api (nodes/debug/). */
  debugState(): ReturnType<DebugSource['debugState']> {
    return paxosDebugState(this.core, this.commitIndex(), this.appliedIndex);
  }

  /** Highest slot s such that every slot 1..s is decided (the twin of Raft's commitIndex). */
  private commitIndex(): number {
    let slot = this.core.slotOut;
    while (this.core.hasDecision(slot)) slot++;
    return slot - 1;
  }

  // ---- the loop --------------------------------------------------------------------------

  protected hasReady(): boolean {
    return this.core.hasReady();
  }

  /** One Ready cycle (the order is the core's Ready contract); ReadyLoop runs one at a time. */
  protected async cycle(): Promise<void> {
    const rd = this.core.ready();
    this.sendAll(rd.messages);
    await this.persist(rd);
    this.sendAll(rd.messagesAfterPersist);
    this.noteSoftState(rd.softState);
    if (rd.installSnapshot !== null) this.restoreInBackground(rd.installSnapshot);
    // A restarted or lagging replica gets thousands of slots at once: applied in time slices.
    await applyInSlices(rd.decided, APPLY_PART_SLOTS, (part) => this.apply(part));
    this.readsAnswered(slotsAsIndexes(rd.readStates), rd.readsFailed);
    this.core.advance(rd);
    if (rd.snapshotWanted !== null) this.takeSnapshot();
  }

  /**
   * One LevelDB batch: received chunks, an installed snapshot, acceptor state and decisions, and
   * the deletions of a compaction (protocols/multipaxos/README.md, "Snapshots: the runtime's half").
   */
  private async persist(rd: Ready): Promise<void> {
    if (isEmptyUpdate(rd.persist)) return;
    await this.opts.store.persist(rd.persist);
    this.stats.snapshotChunksReceived += rd.persist.snapshotChunks.length;
    if (rd.persist.compactTo !== null) this.stats.compactions++;
  }

  /** At start, the stored snapshot is restored before the replica serves (chunk by chunk). */
  private async restoreAtStart(snapshot: Snapshot): Promise<void> {
    this.sm = await this.snapshots.restoreAtStart(snapshot.chunks, (chunk) => this.readChunk(snapshot.slot, chunk));
    this.appliedIndex = snapshot.slot;
  }

  private async readChunk(slot: number, chunk: number): Promise<Uint8Array> {
    const bytes = await this.opts.store.readSnapshotChunk(slot, chunk);
    if (bytes === undefined) throw new Error(`chunk ${chunk} of snapshot ${slot} is missing`);
    return bytes;
  }

  /**
   * State transfer: a snapshot from a peer replaces the state machine (its slots are never applied
   * here). It is rebuilt from the stored chunks in the background while the loop goes on; the
   * slots decided meanwhile are applied once it is done, and reads wait for that.
   */
  private restoreInBackground(snap: Snapshot): void {
    this.deferred = [];
    this.snapshots.restore(
      snap.chunks,
      (chunk) => this.opts.store.readSnapshotChunk(snap.slot, chunk),
      (sm) => {
        this.sm = sm;
        this.appliedIndex = Math.max(this.appliedIndex, snap.slot);
        this.stats.snapshotsInstalled++;
        this.stats.snapshotSeconds('restore', this.snapshots.last.restoreMs / 1000);
        this.opts.logger.info({ slot: snap.slot, chunks: snap.chunks, ms: Math.round(this.snapshots.last.restoreMs) }, 'installed a state-machine snapshot from a peer');
        // Writes waiting on collected slots: applied or not, their results are gone here.
        for (const [slot, waiting] of [...this.slotWaiters]) {
          if (slot > snap.slot) continue;
          this.slotWaiters.delete(slot);
          for (const id of waiting.ids) this.writes.take(id)?.reject(new ServiceError('TIMEOUT', 'replaced by a snapshot from a peer before it was applied here; the outcome is unknown'));
        }
        const queued = this.deferred;
        this.deferred = [];
        this.apply(queued);
        this.reads.release(this.appliedIndex, this.sm);
      },
    );
  }

  /**
   * Ready.snapshotWanted, once the log since the last snapshot has grown in proportion to it
   * (`policy.due`): a snapshot of the state machine at the applied slot, taken in the
   * background (a consistent cut, written chunk by chunk in time slices) while commands keep
   * being applied; once it is durable, the core may compact up to it.
   */
  private takeSnapshot(): void {
    const slot = this.appliedIndex;
    if (this.snapshots.busy || slot <= this.core.snapshotSlot || !this.snapshots.policy.due) return;
    this.snapshots.take(
      this.sm,
      (chunk, bytes) => this.opts.store.writeSnapshotChunk(slot, chunk, bytes),
      async (chunks) => {
        if (!(await this.opts.store.saveSnapshot({ slot, chunks }))) return;
        this.stats.snapshotSeconds('take', this.snapshots.elapsedSeconds());
        this.loop.input(() => {
          if (this.core.snapshotSaved(slot, chunks)) this.stats.snapshotsTaken++;
        });
      },
    );
  }

  private sendAll(messages: PaxosMessage[]): void {
    for (const m of messages) {
      if (m.type === 'SnapshotChunk') void this.sendSnapshotChunk(m);
      else this.opts.transport.send(m.to, m);
    }
  }

  /** Ready contract step 3: a SnapshotChunk goes out with its bytes, read from the store. */
  private async sendSnapshotChunk(m: SnapshotChunk): Promise<void> {
    const data = await this.opts.store.readSnapshotChunk(m.slot, m.chunk).catch(() => undefined);
    // Gone: a newer snapshot replaced it; the receiver asks again and is offered that one.
    if (data === undefined) return;
    this.opts.transport.send(m.to, { ...m, data } satisfies PaxosMessage);
    this.stats.snapshotChunksSent++;
  }

  private noteSoftState(soft: SoftState | null): void {
    if (soft === null) return;
    const before = this.soft;
    this.soft = soft;
    if (before.leader !== soft.leader) this.stats.leaderChanges++;
    if (before.role !== soft.role || before.leader !== soft.leader || !sameBallot(before.ballot, soft.ballot)) {
      const ballot = formatBallot(soft.ballot);
      this.opts.logger.info({ role: soft.role, ballot, leader: soft.leader }, `now ${soft.role} in ballot ${ballot}`);
    }
  }

  /** One command of a decided batch; its bytes count towards the next snapshot (policy). */
  private applyPayload(payload: Uint8Array): KvResult | null {
    this.snapshots.policy.applied(payload.byteLength);
    return applyEncodedCommand(this.sm, payload, this.opts.logger);
  }

  /**
   * PMMC replica: perform decided slots in order. A slot's batch is applied payload by payload;
   * the proposal at position k is acknowledged with the k-th result when the slot was decided
   * with this leader's own batch (origin = the ballot propose() returned), otherwise it lost its
   * slot to a change of leader and was not applied (README.md, "Driving the core").
   */
  private apply(decided: Decision[]): void {
    if (this.snapshots.restoring) {
      for (const d of decided) this.deferred.push(d);
      return;
    }
    for (const { slot, command } of decided) {
      if (slot <= this.appliedIndex) continue;
      const results: Array<KvResult | null> = command.kind === 'batch' ? command.payloads.map((p) => this.applyPayload(p)) : [];
      this.appliedIndex = slot;
      this.stats.appliedSlots++;
      this.stats.applied += Math.max(1, command.payloads.length);
      const waiting = this.slotWaiters.get(slot);
      if (waiting === undefined) continue;
      this.slotWaiters.delete(slot);
      if (command.kind !== 'batch' || !sameBallot(command.origin, waiting.ballot)) {
        this.rejectSlot(waiting);
        continue;
      }
      waiting.ids.forEach((id, k) => {
        const w = this.writes.take(id);
        if (w === undefined) return; // timed out already
        const result = results[k];
        if (result !== undefined && result !== null) w.resolve(result);
        else w.reject(notApplied());
      });
    }
    if (decided.length > 0) this.reads.release(this.appliedIndex, this.sm);
  }

  private rejectSlot(waiting: SlotWaiters): void {
    for (const id of waiting.ids) {
      const w = this.writes.take(id);
      if (w === undefined) continue;
      this.stats.notApplied++;
      w.reject(notApplied());
    }
  }

}

/** The core's read states name slots; the host's read waiters count in the same numbers, as indexes. */
function slotsAsIndexes(states: ReadState[]): Array<{ ctx: number; index: number }> {
  return states.map(({ ctx, slot }) => ({ ctx, index: slot }));
}

/** The core's answer to a proposal, the leader's own or a forwarded one (nodes/forwarding). */
function proposeOutcome(r: ReturnType<MultiPaxosNode['propose']>): ProposeOutcome<PaxosPlacement> {
  if (r.ok) return { ok: true, at: { slot: r.slot, ballot: r.ballot, position: r.position } };
  return { ok: false, refused: 'not-leader', leader: r.leader };
}

function notApplied(): ServiceError {
  return new ServiceError('NO_LEADER', 'leadership changed before the request was decided; it was not applied', {}, 1);
}
