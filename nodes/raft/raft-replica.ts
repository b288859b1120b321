import type { Logger } from 'pino';
import { randomInt } from 'node:crypto';
import { SeededRng } from '../../protocols/common/rng.js';
import type { KvResult } from '../../protocols/kv/commands.js';
import { RaftNode } from '../../protocols/raft/raft-node.js';
import type { Membership, MembershipChange } from '../../protocols/raft/membership.js';
import type { LogEntry, MembershipResult, RaftMessage, Ready, Snapshot, SoftState } from '../../protocols/raft/types.js';
import { NotLeaderError, ServiceError } from '../http/errors.js';
import type { NodeSpec, RaftTuning } from '../config.js';
import type { RaftLogStore } from '../storage/raft-log-store.js';
import type { ReplicaMetrics } from '../metrics.js';
import type { DiskStats } from '../replica-metrics.js';
import type { Transport } from '../transport/index.js';
import { WaiterTable, type Waiter } from '../waiter-table.js';
import { isRaftMessage } from './message-guard.js';
import { RaftReplicaStats } from './raft-replica-stats.js';
import { RaftMembership, specOf } from './raft-membership.js';
import { applyEncodedCommand } from '../command-codec.js';
import { applyInSlices } from '../apply-slices.js';
import { SnapshotJobs } from '../snapshots/snapshot-jobs.js';
import type { DebugSource } from '../debug/debug-source.js';
import { raftDebugState } from '../debug/raft-debug-state.js';
import type { ProposeOutcome } from '../forwarding/forward-server.js';
import { ReplicaHost } from '../host/replica-host.js';

/** Where a Raft leader put a forwarded command (nodes/forwarding): its log index and term. */
interface RaftPlacement {
  index: number;
  term: number;
}

/** Committed entries applied between two looks at the clock (nodes/apply-slices.ts). */
const APPLY_PART_ENTRIES = 64;

const isPlacement = (v: unknown): v is RaftPlacement =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as RaftPlacement).index) && Number.isSafeInteger((v as RaftPlacement).term);

export interface RaftReplicaOptions {
  id: string;
  /** The bootstrap configuration (dissertation §4.1); the log's configurations supersede it. */
  voters: string[];
  /** Every replica of the cluster file, to reach members whose configuration entry has no address. */
  clusterNodes?: NodeSpec[];
  /** HTTP base URL of every replica, for forwarding to the leader. */
  httpUrls: Record<string, string>;
  tuning: RaftTuning;
  store: RaftLogStore;
  transport: Transport;
  logger: Logger;
  /** Answer linearizable reads from local state: deliberately unsafe, for the harness. */
  unsafeLocalReads?: boolean;
  /** The process's metrics registry (nodes/metrics.ts): this replica's counters go there. */
  metrics: ReplicaMetrics;
}

interface PendingWrite extends Waiter<KvResult> {
  term: number;
}

interface PendingConfig extends Waiter<void> {
  term: number;
}

/**
 * One Raft replica: the pure core (protocols/raft) driven by real time, a real disk and real
 * sockets (docs/design.md §3.2). The loop is: inputs → core.step → ready() → send the leader's
 * AppendEntries at once → persist in one fsync'd LevelDB batch → send replies that needed
 * durability → apply committed entries → answer clients → advance().
 *
 * Inputs that arrive while a batch is being persisted are queued and stepped together right
 * after it, so they share the next fsync: that is the group commit (nodes/ready-loop.ts).
 *
 * The KvService plumbing it shares with Multi-Paxos (admission, deadlines, forwarding, reads,
 * timers) is the replica host's (nodes/host/replica-host.ts); what is here is Raft's own.
 */
export class RaftReplica extends ReplicaHost<RaftPlacement, RaftMessage, PendingWrite> implements DebugSource {
  readonly protocol = 'raft';
  readonly stats = new RaftReplicaStats();
  /** Snapshots taken and restored in the background (nodes/snapshots). */
  private readonly snapshots: SnapshotJobs;
  /** Committed entries waiting for a snapshot being restored: applied once it is. */
  private deferred: LogEntry[] = [];
  /** Membership changes waiting for their configuration entry to be applied (dissertation §4.1). */
  private readonly configs = new WaiterTable<number, void, PendingConfig>();
  /** The configuration the transport and forwarding were last set up for. */
  private knownMembership: Membership | null = null;
  readonly membership: RaftMembership;
  /** Real time up to which ticks were delivered to the core. */
  private tickedUntilMs = performance.now();
  private soft: SoftState = { role: 'follower', leader: null, term: 0 };

  private constructor(
    private readonly opts: RaftReplicaOptions,
    private readonly core: RaftNode,
  ) {
    super({
      id: opts.id,
      loopName: 'raft',
      httpUrls: opts.httpUrls,
      tuning: opts.tuning.runtime,
      transport: opts.transport,
      logger: opts.logger,
      unsafeLocalReads: opts.unsafeLocalReads === true,
      isPeerMessage: isRaftMessage,
      isPlacement,
      writeTimeout: 'not committed in time; the outcome is unknown',
    });
    this.snapshots = new SnapshotJobs({
      logger: opts.logger,
      maxChunkBytes: opts.tuning.runtime.maxSnapshotChunkBytes,
      snapshotLogRatio: opts.tuning.runtime.snapshotLogRatio,
    });
    this.membership = new RaftMembership({
      current: () => {
        const st = core.status();
        return { membership: st.membership, index: st.membershipIndex, committed: st.membershipCommitted };
      },
      leader: () => this.soft.leader,
      propose: (change) => this.proposeMembership(change),
      clusterNodes: opts.clusterNodes ?? [],
      deadlineMs: Math.max(8000, opts.tuning.runtime.requestTimeoutMs),
      retryMs: opts.tuning.runtime.tickMs,
    });
    this.stats.register(opts.metrics, {
      status: () => core.status(),
      appliedIndex: () => this.appliedIndex,
      readsServed: () => this.reads.served,
      disk: (opts.store as { stats?: DiskStats }).stats ?? { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 },
      transport: opts.transport,
      forwarding: { client: this.forward.stats, server: this.forwarded.stats },
    });
  }

  static async start(opts: RaftReplicaOptions): Promise<RaftReplica> {
    const disk = await opts.store.load();
    const incarnation = await opts.store.nextIncarnation(Date.now());
    const core = new RaftNode(
      { ...opts.tuning.core, id: opts.id, voters: opts.voters, incarnation },
      new SeededRng(randomInt(2 ** 31)),
      disk,
    );
    const replica = new RaftReplica(opts, core);
    if (disk.snapshot !== null) await replica.restoreAtStart(disk.snapshot);
    replica.soft = { role: 'follower', leader: null, term: disk.hardState.currentTerm };
    opts.logger.info(
      { term: disk.hardState.currentTerm, votedFor: disk.hardState.votedFor, lastIndex: disk.entries.length, commitIndex: disk.hardState.commitIndex },
      'recovered raft state from disk',
    );
    replica.syncMembers(); // members added earlier (in the log or snapshot) may be missing from the cluster file
    replica.serve(() => undefined); // the ticks that elapsed are delivered before every input (tickElapsed)
    return replica;
  }

  // ---- KvService (the rest is the host's) ------------------------------------------------

  leader(): string | null {
    return this.soft.leader;
  }

  /** A lease read (dissertation §6.4.1): no quorum round while the leader's lease holds. */
  readLease(key: string): Promise<string | null> {
    return this.read(key, true);
  }

  /** Dissertation §3.10; resolves once another replica reports itself leader, or times out. */
  async transferLeadership(target: string | null): Promise<{ leader: string }> {
    if (this.soft.role !== 'leader') throw new NotLeaderError(this.soft.leader);
    const result = await new Promise<ReturnType<RaftNode['transferLeadership']>>((resolve) =>
      this.loop.input(() => resolve(this.core.transferLeadership(target))),
    );
    if (!result.ok) {
      if (result.reason === 'not-leader') throw new NotLeaderError(this.soft.leader);
      if (result.reason === 'already-leader') return { leader: this.id };
      throw new ServiceError('BAD_REQUEST', `cannot transfer leadership: ${result.reason}`);
    }
    const { tickMs } = this.opts.tuning.runtime;
    const { electionTimeoutTicks } = this.opts.tuning.core;
    const deadline = Date.now() + 4 * electionTimeoutTicks * tickMs;
    while (Date.now() < deadline) {
      if (this.soft.leader === result.target) return { leader: result.target };
      await new Promise((r) => setTimeout(r, tickMs));
    }
    throw new ServiceError('TIMEOUT', `${result.target} did not take over in time; the transfer was abandoned`);
  }

  /** Dissertation §4.1: propose a configuration entry; `applied` settles when it is applied. */
  private proposeMembership(change: MembershipChange): Promise<{ result: MembershipResult; applied: Promise<void> }> {
    return new Promise((resolve) => {
      this.loop.input(() => {
        const result = this.core.proposeMembership(change);
        if (!result.ok) return resolve({ result, applied: Promise.resolve() });
        const applied = new Promise<void>((done, fail) => {
          this.writes.take(result.index)?.reject(notApplied());
          this.configs.add(result.index, { term: this.core.term, resolve: done, reject: fail, deadlineMs: this.deadline() });
        });
        resolve({ result, applied });
      });
    });
  }

  status(): Record<string, unknown> {
    const s = this.core.status();
    return {
      id: this.id,
      protocol: this.protocol,
      pid: process.pid,
      role: s.role,
      leader: s.leader,
      term: s.term,
      votedFor: s.votedFor,
      commitIndex: s.commitIndex,
      appliedIndex: this.appliedIndex,
      lastLogIndex: s.lastLogIndex,
      lastLogTerm: s.lastLogTerm,
      snapshotIndex: s.snapshotIndex,
      snapshotChunks: s.snapshotChunks,
      // The snapshot policy's two sizes (nodes/snapshots/snapshot-policy.ts).
      logBytesSinceSnapshot: this.snapshots.policy.sizes.logBytes,
      snapshotBytes: this.snapshots.policy.sizes.snapshotBytes,
      keys: this.sm.size,
      pendingWrites: this.writes.size,
      pendingReads: this.reads.size,
      progress: s.progress,
      voters: s.membership.voters,
      learners: s.membership.learners,
      membershipIndex: s.membershipIndex,
    };
  }

  /** GET /admin/debug/state with --debug-api (nodes/debug/). */
  debugState(): ReturnType<DebugSource['debugState']> {
    return raftDebugState(this.core, this.appliedIndex);
  }

  // ---- the host's hooks: proposing, reading, waiting for a write -------------------------

  protected propose(data: Uint8Array): ProposeOutcome<RaftPlacement> {
    return proposeOutcome(this.core.propose(data));
  }

  protected askReadIndex(ctx: number, lease: boolean): void {
    if (lease) this.core.leaseRead(ctx);
    else this.core.readIndex(ctx);
  }

  protected step(message: RaftMessage): void {
    this.core.step(message);
  }

  protected waitForWrite(at: RaftPlacement, waiter: Waiter<KvResult>): void {
    // A waiter still at this index belongs to an entry the leader's log no longer has: by Leader
    // Completeness (Raft §5.4) that entry was never committed.
    this.writes.take(at.index)?.reject(notApplied());
    this.writes.add(at.index, { term: at.term, ...waiter });
  }

  /**
   * A forwarded write's entry is at `at` in the leader's log: wait for this replica to apply it.
   * Already applied here (its answer came after the entry, which the FIFO link makes rare): the
   * result is gone, so the outcome is unknown.
   */
  protected awaitForwarded(at: RaftPlacement, deadlineMs: number): Promise<KvResult> {
    return new Promise<KvResult>((resolve, reject) => {
      if (at.index <= this.appliedIndex) return reject(new ServiceError('TIMEOUT', 'applied before its position was known; the outcome is unknown'));
      this.waitForWrite(at, { resolve, reject, deadlineMs });
    });
  }

  /** Membership changes wait and expire like writes, but are not client requests (no timeout counted). */
  protected override expireRequests(now: number): void {
    super.expireRequests(now);
    this.configs.expire(now, () => new ServiceError('TIMEOUT', 'not committed in time; the outcome is unknown'));
  }

  protected closeRuntime(closing: () => ServiceError): void {
    this.snapshots.cancel();
    this.configs.rejectAll(closing);
  }

  // ---- the loop --------------------------------------------------------------------------

  protected hasReady(): boolean {
    return this.core.hasReady();
  }

  /** Before every input of the loop, the core sees the time that passed. */
  protected override beforeInput(): void {
    this.tickElapsed();
  }

  /**
   * Deliver every tick that elapsed in real time, not one per timer callback: after a SIGSTOP of
   * 10 s the core must see ~200 ticks at once, or a leader's lease would outlive reality
   * (protocols/raft/README.md, "Lease reads").
   */
  private tickElapsed(): void {
    const { tickMs } = this.opts.tuning.runtime;
    const ticks = Math.floor((performance.now() - this.tickedUntilMs) / tickMs);
    if (ticks <= 0) return;
    this.tickedUntilMs += ticks * tickMs;
    this.core.tick(ticks);
  }

  /** One Ready cycle (the order is the core's Ready contract); ReadyLoop runs one at a time. */
  protected async cycle(): Promise<void> {
    const rd = this.core.ready();
    // A configuration appended since the last cycle (inputs are stepped between cycles, never
    // during one): reach its new members before this Ready's messages go out.
    this.syncMembers();
    this.sendAll(rd.messages);
    await this.persist(rd);
    this.sendAll(rd.messagesAfterPersist);
    this.noteSoftState(rd.softState);
    if (rd.snapshot !== null) this.restoreInBackground(rd.snapshot);
    // A restarted or lagging replica gets thousands of entries at once: applied in time slices.
    await applyInSlices(rd.committed, APPLY_PART_ENTRIES, (part) => this.apply(part));
    this.readsAnswered(rd.readStates, rd.readsFailed);
    this.core.advance(rd);
    if (rd.snapshotWanted !== null) this.takeSnapshot(rd.snapshotWanted);
  }

  private async persist(rd: Ready): Promise<void> {
    const { hardState, truncateFrom, entries, snapshot, snapshotChunks, compactTo } = rd;
    if (hardState === null && truncateFrom === null && entries.length === 0 && snapshot === null && snapshotChunks.length === 0 && compactTo === null) return;
    await this.opts.store.persist({ hardState, truncateFrom, entries, snapshot, snapshotChunks, compactTo });
  }

  /** At start, the stored snapshot is restored before the replica serves (chunk by chunk). */
  private async restoreAtStart(snapshot: Snapshot): Promise<void> {
    this.sm = await this.snapshots.restoreAtStart(snapshot.chunks, (chunk) => this.readChunk(snapshot.index, chunk));
    this.appliedIndex = snapshot.index;
    this.stats.snapshotsInstalled++;
  }

  private async readChunk(index: number, chunk: number): Promise<Uint8Array> {
    const bytes = await this.opts.store.readSnapshotChunk(index, chunk);
    if (bytes === undefined) throw new Error(`chunk ${chunk} of snapshot ${index} is missing`);
    return bytes;
  }

  /**
   * Raft §7, Figure 13 rule 8: a snapshot from the leader replaces the state machine. It is
   * rebuilt in the background while the loop goes on (appending, answering the leader); what
   * commits meanwhile is applied once it is done, and reads wait for that.
   */
  private restoreInBackground(snapshot: Snapshot): void {
    this.deferred = [];
    this.snapshots.restore(
      snapshot.chunks,
      (chunk) => this.opts.store.readSnapshotChunk(snapshot.index, chunk),
      (sm) => {
        this.sm = sm;
        this.appliedIndex = Math.max(this.appliedIndex, snapshot.index);
        this.stats.snapshotsInstalled++;
        this.stats.snapshotSeconds('restore', this.snapshots.last.restoreMs / 1000);
        // Writes waiting for entries the snapshot covers: applied or not, their results are gone.
        for (const [index, waiter] of [...this.writes.entries()]) {
          if (index > snapshot.index) continue;
          this.writes.take(index);
          waiter.reject(new ServiceError('TIMEOUT', 'replaced by a snapshot from the leader before it was applied here; the outcome is unknown'));
        }
        const queued = this.deferred;
        this.deferred = [];
        this.apply(queued);
        this.reads.release(this.appliedIndex, this.sm);
      },
    );
  }

  /**
   * Raft §7 log compaction, when the core asks (Ready.snapshotWanted, its `snapshotEvery`) and the
   * log since the last snapshot has grown in proportion to it (`policy.due`): a snapshot of the
   * state machine at the applied index, in the background (a consistent cut,
   * written chunk by chunk); once it is durable, the core drops the entries it covers (the next
   * Ready deletes them on disk). A restore still under way, or a snapshot being taken, waits: the
   * next Ready asks again.
   */
  private takeSnapshot(wanted: number): void {
    const index = this.appliedIndex;
    if (this.snapshots.busy || index < wanted || !this.snapshots.policy.due) return;
    const term = this.core.entryAt(index)?.term;
    if (term === undefined) return;
    const membership = this.core.membershipAt(index);
    this.snapshots.take(
      this.sm,
      (chunk, bytes) => this.opts.store.writeSnapshotChunk(index, chunk, bytes),
      async (chunks) => {
        if (!(await this.opts.store.saveSnapshot({ index, term, chunks, membership }))) return;
        this.stats.snapshotSeconds('take', this.snapshots.elapsedSeconds());
        this.loop.input(() => {
          if (this.core.compact(index, chunks)) this.stats.snapshotsTaken++;
        });
      },
    );
  }

  private sendAll(messages: RaftMessage[]): void {
    for (const m of messages) {
      if (m.type === 'InstallSnapshot') void this.sendSnapshotChunk(m);
      else this.opts.transport.send(m.to, m);
    }
  }

  /** Ready contract step 1: an InstallSnapshot goes out with its chunk, read from the store. */
  private async sendSnapshotChunk(m: Extract<RaftMessage, { type: 'InstallSnapshot' }>): Promise<void> {
    const data = await this.opts.store.readSnapshotChunk(m.lastIncludedIndex, m.chunk).catch(() => undefined);
    // Gone: a newer snapshot replaced it; the core starts that one at the next heartbeat.
    if (data !== undefined) this.opts.transport.send(m.to, { ...m, data });
  }

  private noteSoftState(soft: SoftState | null): void {
    if (soft === null) return;
    const before = this.soft;
    this.soft = soft;
    if (before.leader !== soft.leader) this.stats.leaderChanges++;
    if (before.role !== soft.role || before.leader !== soft.leader || before.term !== soft.term) {
      this.opts.logger.info({ role: soft.role, term: soft.term, leader: soft.leader }, `now ${soft.role} in term ${soft.term}`);
    }
  }

  /** Apply committed entries in log order (Raft §5.3: "apply log[lastApplied] to state machine"). */
  private apply(entries: LogEntry[]): void {
    if (this.snapshots.restoring) {
      for (const entry of entries) this.deferred.push(entry);
      return;
    }
    for (const entry of entries) {
      if (entry.index <= this.appliedIndex) continue;
      const result = entry.kind === 'command' && entry.data !== null ? applyEncodedCommand(this.sm, entry.data, this.opts.logger) : null;
      if (entry.data !== null) this.snapshots.policy.applied(entry.data.byteLength);
      this.appliedIndex = entry.index;
      this.stats.applied++;
      if (entry.kind === 'config') this.configApplied(entry);
      const waiter = this.writes.take(entry.index);
      if (waiter === undefined) continue;
      if (waiter.term === entry.term && result !== null) waiter.resolve(result);
      else waiter.reject(notApplied());
    }
    if (entries.length > 0) this.reads.release(this.appliedIndex, this.sm);
  }

  private configApplied(entry: LogEntry): void {
    const waiter = this.configs.take(entry.index);
    if (waiter === undefined) return;
    if (waiter.term === entry.term) waiter.resolve();
    else waiter.reject(notApplied());
  }

  /**
   * Dissertation §4.1: a configuration is in force once in the log, so the leader must reach a
   * new member as soon as it appends the entry: every member gets a transport peer and a
   * forwarding URL. Removed members are kept (harmless: nobody sends them anything).
   */
  private syncMembers(): void {
    const membership = this.core.membership;
    if (membership === this.knownMembership) return;
    this.knownMembership = membership;
    for (const id of [...membership.voters, ...membership.learners]) {
      if (id === this.id || this.httpUrls.has(id)) continue;
      const spec = specOf(membership, id, this.opts.clusterNodes ?? []);
      if (spec === null) continue;
      this.opts.transport.addPeer(id, { host: spec.host, port: spec.peerPort });
      this.httpUrls.set(id, `http://${spec.host}:${spec.httpPort}`);
      this.opts.logger.info({ member: id, peer: `${spec.host}:${spec.peerPort}` }, 'reaching a new member');
    }
  }

}

/** The core's answer to a proposal, the leader's own or a forwarded one (nodes/forwarding). */
function proposeOutcome(r: ReturnType<RaftNode['propose']>): ProposeOutcome<RaftPlacement> {
  if (r.ok) return { ok: true, at: { index: r.index, term: r.term } };
  if (r.reason === 'overloaded') return { ok: false, refused: 'overloaded', leader: null };
  return { ok: false, refused: 'not-leader', leader: r.leader };
}

function notApplied(): ServiceError {
  return new ServiceError('NO_LEADER', 'leadership changed before the request was committed; it was not applied', {}, 1);
}
