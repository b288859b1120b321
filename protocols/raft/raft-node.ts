/**
 * RaftNode: one Raft replica as a deterministic state machine (docs/design.md §2.1). The runtime feeds it
 * time (`tick`), peer messages (`step`), client commands (`propose`) and read requests
 * (`readIndex`, `leaseRead`), leadership transfers (`transferLeadership`) and membership changes
 * (`proposeMembership`), and collects everything it must do from `ready()`: persist, send, apply,
 * answer.
 * Then it calls `advance()`. No I/O, no clock, no randomness except the injected generator.
 *
 * Rules are cited from the Raft paper (Ongaro and Ousterhout 2014, "§5.x", "Figure 2") and
 * Ongaro's dissertation ("dissertation §x"). README.md maps every rule to a function here.
 */
import { invariant } from '../common/invariant.js';
import { majority, majorityValue } from '../common/quorum.js';
import type { Rng } from '../common/rng.js';
import { ElectionTimer } from './election-timer.js';
import { entryBytes, RaftLog } from './log.js';
import { LeaderState } from './leader-state.js';
import {
  applyChange,
  encodeMembership,
  isMember,
  MembershipLog,
  type Membership,
  type MembershipChange,
} from './membership.js';
import { isWellFormed } from './message-guard.js';
import { Progress } from './progress.js';
import { ReadIndexTracker } from './read-index.js';
import { DEFAULT_MAX_UNCOMMITTED_BYTES } from './uncommitted.js';
import type {
  AppendEntries,
  AppendEntriesResponse,
  HardState,
  InstallSnapshot,
  InstallSnapshotResponse,
  LogEntry,
  MembershipResult,
  NodeId,
  ProposeResult,
  RaftConfig,
  RaftMessage,
  RaftStatus,
  ReadState,
  Ready,
  RequestVote,
  RequestVoteResponse,
  Role,
  Snapshot,
  SnapshotChunk,
  SoftState,
  TimeoutNow,
  TransferResult,
} from './types.js';
import { DEFAULT_SNAPSHOT_EVERY } from './types.js';
import { VoteTally } from './vote-tally.js';

/** What a restarted replica finds on disk. A fresh replica passes term 0, no vote, no entries. */
export interface RestoredState {
  hardState: HardState;
  /**
   * The persisted log, contiguous: indices 1..n, or, with a snapshot, starting anywhere from 1 to
   * snapshot.index + 1 (entries the snapshot covers are ignored, and deleted by the first Ready).
   */
  entries: LogEntry[];
  /**
   * Raft §7: the stored snapshot, if any. The runtime restores its state machine from it itself
   * (applied index = index); the core sends it to followers chunk by chunk (InstallSnapshot,
   * bytes filled in by the runtime) and re-emits only the committed entries after `index`.
   */
  snapshot?: Snapshot | null;
}

/**
 * A snapshot being received from a leader, chunk by chunk (Raft §7, Figure 13 rules 2-5). The
 * chunks themselves go to the runtime (Ready.snapshotChunks); the core counts them.
 */
interface IncomingSnapshot {
  leader: NodeId;
  index: number;
  snapshotTerm: number;
  chunks: number;
  /** Chunks received so far: the number of the next one. */
  received: number;
}

export class RaftNode {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly log: RaftLog;
  /** Dissertation §4.1: the configurations in the log; the latest one is in force. */
  private members: MembershipLog;
  private readonly timer: ElectionTimer;

  // Persistent state on all servers (Raft Figure 2); made durable through Ready.hardState.
  private currentTerm: number;
  private votedFor: NodeId | null;
  // Volatile state on all servers.
  private commit: number;
  private currentRole: Role = 'follower';
  private leaderId: NodeId | null = null;
  /** Highest index handed to the runtime in Ready.committed (or covered by Ready.snapshot). */
  private handedToApply = 0;
  /** Raft §7: how many chunks the runtime stored the snapshot the log starts after in (0: none). */
  private snapshotChunks = 0;
  /** Raft §7: the snapshot being received from the leader, if any. */
  private incoming: IncomingSnapshot | null = null;
  /** Raft §7: an installed snapshot for the next Ready. */
  private outSnapshot: Snapshot | null = null;
  /** Raft §7: chunks of the snapshot being received, for the next Ready. */
  private outSnapshotChunks: SnapshotChunk[] = [];
  private votes: VoteTally | null = null;

  /**
   * Volatile state on leaders (Figure 2 nextIndex[] and matchIndex[], and the dissertation's
   * additions): created by becomeLeader, dropped when we step down (leader-state.ts).
   */
  private leadership: LeaderState | null = null;
  /** Dissertation §6.4: ReadIndex reads; its round numbers grow across terms, so it is kept. */
  private readonly reads = new ReadIndexTracker();

  /** Ticks since this replica started: the clock of the lease (never reset). */
  private now = 0;
  /**
   * With lease reads on, a restarted replica may have acknowledged a leader's heartbeat just before it crashed, and that
   * leader may count it in a lease: it stays in a leader lease for an election timeout after it
   * starts, as if it had just heard from a leader (see README, Deviations, "Lease reads").
   */
  private bootLease: boolean;

  // Outputs collected for the next Ready.
  private outMessages: RaftMessage[] = [];
  private outAfterPersist: RaftMessage[] = [];
  private outReadStates: ReadState[] = [];
  private outReadsFailed: number[] = [];
  private lastSoft: SoftState;
  private lastHard: HardState;
  private outstanding: Ready | null = null;

  constructor(config: RaftConfig, rng: Rng, restored: RestoredState) {
    assertValidConfig(config);
    this.config = config;
    this.id = config.id;
    const snapshot = restored.snapshot ?? null;
    this.log = new RaftLog(restored.entries, snapshot);
    const bootstrap: Membership = { voters: [...config.voters], learners: [], addresses: {} };
    this.members = new MembershipLog(
      { index: this.log.snapshotIndex, membership: snapshot?.membership ?? bootstrap },
      this.log.slice(this.log.snapshotIndex + 1, this.log.lastIndex),
    );
    const hard = restored.hardState;
    invariant(
      hard.commitIndex >= 0 && hard.commitIndex <= this.log.lastIndex,
      () => `restored commitIndex ${hard.commitIndex} beyond restored log (${this.log.lastIndex})`,
    );
    this.currentTerm = hard.currentTerm;
    this.votedFor = hard.votedFor;
    // A snapshot covers committed entries only; the hard state may predate it (saved separately).
    this.commit = Math.max(hard.commitIndex, this.log.snapshotIndex);
    this.handedToApply = this.log.snapshotIndex; // the runtime restores its state machine from it
    this.snapshotChunks = snapshot === null ? 0 : snapshot.chunks;
    this.bootLease = leasesOn(config) && hard.currentTerm > 0;
    this.timer = new ElectionTimer(config.electionTimeoutTicks, rng, this.bootLease);
    this.lastSoft = this.softState();
    this.lastHard = this.hardState();
  }

  get role(): Role {
    return this.currentRole;
  }

  get term(): number {
    return this.currentTerm;
  }

  get leader(): NodeId | null {
    return this.leaderId;
  }

  get commitIndex(): number {
    return this.commit;
  }

  get lastIndex(): number {
    return this.log.lastIndex;
  }

  /** Raft §7: the last index covered by this replica's snapshot (0: none). */
  get snapshotIndex(): number {
    return this.log.snapshotIndex;
  }

  /** The entry at `index` in the in-memory log (entries are shared: never mutate them). */
  entryAt(index: number): LogEntry | undefined {
    return this.log.entry(index);
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.currentRole,
      term: this.currentTerm,
      leader: this.leaderId,
      votedFor: this.votedFor,
      commitIndex: this.commit,
      lastLogIndex: this.log.lastIndex,
      lastLogTerm: this.log.lastTerm,
      snapshotIndex: this.log.snapshotIndex,
      snapshotChunks: this.snapshotChunks,
      progress: this.currentRole === 'leader' ? this.progressStatus() : null,
      transferTarget: this.leadership?.transferTarget ?? null,
      membership: this.membership,
      membershipIndex: this.members.current.index,
      membershipCommitted: this.members.current.index <= this.commit,
    };
  }

  /** Dissertation §4.1: the configuration in force (the latest in the log, committed or not). */
  get membership(): Membership {
    return this.members.current.membership;
  }

  /** The configuration as of log index `index` (what a snapshot taken there must record, §5.1). */
  membershipAt(index: number): Membership {
    return this.members.at(index).membership;
  }

  // ---------------------------------------------------------------- inputs

  /**
   * `elapsedTicks` units of logical time passed (default 1). The runtime passes every tick that
   * elapsed in real time since its last call, and calls this before any other input: after a
   * process pause of 10 s with 50 ms ticks that is one tick(200), not one tick(1). Leases (dissertation
   * §4.2.3, §6.4.1) are only safe if ticks are never lost (README, Deviations, "Lease reads").
   */
  tick(elapsedTicks = 1): void {
    invariant(Number.isSafeInteger(elapsedTicks) && elapsedTicks >= 0, () => `tick(${elapsedTicks}): not a tick count`);
    if (elapsedTicks === 0) return;
    this.now += elapsedTicks;
    if (this.currentRole === 'leader') this.tickLeader(elapsedTicks);
    else if (this.timer.tick(elapsedTicks)) this.campaign(); // Figure 2, Rules for Servers, Followers
    if (!this.timer.leaderRecentlySeen) this.bootLease = false;
  }

  /** Handles any message from a peer: stale, duplicated, reordered or malformed ones included. */
  step(m: RaftMessage): void {
    // Dissertation §4.1: RPCs are processed whatever our configuration says about the sender (a
    // new server learns the configuration from the leader). Votes count only from voters.
    if (m.to !== this.id || m.from === this.id) return;
    if (!isWellFormed(m)) return;
    if (m.term > this.currentTerm && !this.onHigherTerm(m)) return;
    if (m.term < this.currentTerm) {
      this.onLowerTerm(m);
      return;
    }
    switch (m.type) {
      case 'RequestVote':
        return this.handleRequestVote(m);
      case 'RequestVoteResponse':
        return this.handleVoteResponse(m);
      case 'AppendEntries':
        return this.handleAppendEntries(m);
      case 'AppendEntriesResponse':
        return this.handleAppendResponse(m);
      case 'TimeoutNow':
        return this.handleTimeoutNow();
      case 'InstallSnapshot':
        return this.handleInstallSnapshot(m);
      case 'InstallSnapshotResponse':
        return this.handleSnapshotResponse(m);
      default: {
        const unknown: never = m;
        return unknown;
      }
    }
  }

  /**
   * Figure 2, Rules for Servers, Leaders: "If command received from client: append entry to local
   * log". Nothing is sent here: ready() builds the AppendEntries, so every proposal made between
   * two Readys travels in the same message (batching).
   */
  propose(data: Uint8Array): ProposeResult {
    if (this.currentRole !== 'leader') return { ok: false, reason: 'not-leader', leader: this.leaderId };
    // Dissertation §3.10: the leader stops accepting requests while it transfers leadership.
    if (this.lead.transferTarget !== null) return { ok: false, reason: 'transferring', leader: this.id };
    if (!this.lead.uncommitted.admits(data.byteLength)) return { ok: false, reason: 'overloaded' };
    const entry = this.appendEntry('command', data);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /** Requests a linearizable read (dissertation §6.4); the answer comes in a later Ready. */
  readIndex(ctx: number): void {
    if (this.currentRole !== 'leader') {
      this.outReadsFailed.push(ctx);
      return;
    }
    this.reads.request(ctx, this.commit, this.termCommitted());
  }

  /**
   * A lease read (dissertation §6.4.1): within the leader lease, and once the leader's no-op has
   * committed, the read is served at commitIndex with no heartbeat round (it comes in the next
   * Ready's readStates); otherwise it becomes a ReadIndex read for the same ctx. Weaker than
   * ReadIndex: it is only linearizable if clocks drift by at most leaseDriftTicks per election
   * timeout and the runtime delivers every elapsed tick before any input.
   */
  leaseRead(ctx: number): void {
    if (this.currentRole === 'leader' && this.termCommitted() && this.leaseValid()) {
      this.outReadStates.push({ ctx, index: this.commit });
      return;
    }
    this.readIndex(ctx);
  }

  /**
   * Dissertation §3.10: hand leadership to `target` (null: the most up-to-date follower). The
   * leader refuses proposals from now on, brings the target's log up to date, then sends it
   * TimeoutNow. The transfer is abandoned after an election timeout if we are still leader.
   */
  transferLeadership(target: NodeId | null): TransferResult {
    if (this.currentRole !== 'leader') return { ok: false, reason: 'not-leader' };
    const to = target ?? this.mostUpToDateFollower();
    if (to === null) return { ok: false, reason: 'no-target' };
    if (to === this.id) return { ok: false, reason: 'already-leader' };
    const pr = this.lead.progress.get(to);
    if (pr === undefined || !this.isVoter(to)) return { ok: false, reason: 'unknown-target' };
    if (this.lead.transferTarget === to) return { ok: true, target: to };
    this.lead.startTransfer(to);
    if (pr.matchIndex === this.log.lastIndex) this.sendTimeoutNow(to);
    else pr.heartbeatDue = true; // the answer tells us what it lacks; replication does the rest
    return { ok: true, target: to };
  }

  /**
   * Dissertation §4.1-§4.2: one membership change, as a configuration entry that takes effect
   * as soon as it is appended. Only one change may be uncommitted at a time, and only once the
   * leader has committed an entry of its own term (its no-op): without that rule a leader could
   * append a change whose configuration overlaps no majority with a change it never learned of
   * (Ongaro, "bug in single-server membership changes", raft-dev, 2015).
   */
  proposeMembership(change: MembershipChange): MembershipResult {
    if (this.currentRole !== 'leader') return { ok: false, reason: 'not-leader', leader: this.leaderId };
    if (this.lead.transferTarget !== null) return { ok: false, reason: 'busy', message: 'a leadership transfer is under way' };
    if (!this.termCommitted()) return { ok: false, reason: 'busy', message: 'the leader has not committed an entry of its term yet' };
    if (this.members.current.index > this.commit) return { ok: false, reason: 'busy', message: 'another membership change is not committed yet' };
    if (change.type === 'promote' && this.membership.learners.includes(change.id) && !this.isCaughtUp(change.id)) {
      return { ok: false, reason: 'not-caught-up', message: `${change.id} has not caught up with the leader's log yet` };
    }
    const next = applyChange(this.membership, change);
    if (typeof next === 'string') return { ok: false, reason: 'invalid', message: next };
    const entry = this.appendEntry('config', encodeMembership(next));
    this.syncProgress();
    return { ok: true, index: entry.index, membership: next };
  }

  /**
   * Raft §7, log compaction. The runtime calls this once it has durably saved a snapshot of its
   * state machine as of applied index `index`, in `chunks` chunks (it sends them to followers that
   * need them, chunk by chunk). `index` must be at most the applied index (everything handed out in
   * Ready.committed so far). The core drops its entries up to `index`; the next Ready's
   * `compactTo` tells the runtime to delete them on disk. Returns false, changing nothing, if the
   * log already starts at or after `index` (e.g. a snapshot from the leader was installed since):
   * the runtime must then keep the newer snapshot it stored.
   */
  compact(index: number, chunks: number): boolean {
    invariant(Number.isSafeInteger(index) && index >= 0, () => `compact(${index}): not an index`);
    invariant(Number.isSafeInteger(chunks) && chunks >= 1, () => `compact(${index}): ${chunks} chunks`);
    invariant(
      index <= this.handedToApply && index <= this.commit,
      () => `${this.id}: compact(${index}) beyond the applied index ${this.handedToApply}`,
    );
    if (index <= this.log.snapshotIndex) return false;
    this.log.compact(index);
    this.members.compact(index);
    this.snapshotChunks = chunks;
    return true;
  }

  /**
   * Raft §7: "servers take snapshots independently", here once snapshotEvery entries handed out
   * to apply follow the last snapshot: the index the runtime should snapshot at least up to
   * (Ready.snapshotWanted, step 6), or null.
   */
  private snapshotWanted(): number | null {
    const every = this.config.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    return every > 0 && this.handedToApply - this.log.snapshotIndex >= every ? this.handedToApply : null;
  }

  // ---------------------------------------------------------------- Ready contract

  /** Is there anything in a Ready? Always false while a Ready is outstanding (before advance). */
  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    return (
      this.outMessages.length > 0 ||
      this.outAfterPersist.length > 0 ||
      this.outReadStates.length > 0 ||
      this.outReadsFailed.length > 0 ||
      this.outSnapshot !== null ||
      this.outSnapshotChunks.length > 0 ||
      this.log.hasUnstable() ||
      this.handedToApply < this.commit ||
      this.softStateChanged() ||
      this.hardStateChanged() ||
      (this.currentRole === 'leader' && this.leaderHasWork())
    );
  }

  /** Collects every effect since the last Ready; see the Ready doc comment in types.ts. */
  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called again before advance()');
    if (this.currentRole === 'leader') this.prepareLeaderSends();
    const compactTo = this.log.takeCompactTo();
    const { truncateFrom, entries } = this.log.takeUnstable();
    const durable = this.lastHard;
    const hardState = this.takeHardState();
    // Figure 2, "Persistent state ... updated on stable storage before responding to RPCs", taken
    // to its end: no message may carry a term (or follow a vote) that is not yet durable. A
    // replica that wins without a vote round (the only voter, with learners) would otherwise send
    // AppendEntries of term T before T is on disk, crash, come back in T - 1, win T again and write
    // different entries at the same indices: two logs with one (index, term) and different
    // entries (Log Matching broken). Such a Ready sends everything after the persist.
    const termDurable = hardState === null || (hardState.currentTerm === durable.currentTerm && hardState.votedFor === durable.votedFor);
    const rd: Ready = {
      softState: this.takeSoftState(),
      hardState,
      snapshot: this.outSnapshot,
      snapshotChunks: this.outSnapshotChunks,
      compactTo,
      truncateFrom,
      entries,
      messages: termDurable ? this.outMessages : [],
      messagesAfterPersist: termDurable ? this.outAfterPersist : [...this.outMessages, ...this.outAfterPersist],
      committed: this.takeCommitted(),
      readStates: this.outReadStates,
      readsFailed: this.outReadsFailed,
      snapshotWanted: this.snapshotWanted(),
    };
    this.outMessages = [];
    this.outAfterPersist = [];
    this.outReadStates = [];
    this.outReadsFailed = [];
    this.outSnapshot = null;
    this.outSnapshotChunks = [];
    this.outstanding = rd;
    return rd;
  }

  /** The runtime persisted `rd` (and sent and applied it): the leader may now count its own log. */
  advance(rd: Ready): void {
    invariant(rd === this.outstanding, 'advance() must get the Ready returned by the last ready()');
    this.outstanding = null;
    this.log.markPersisted();
    if (this.currentRole === 'leader') this.maybeCommit();
  }

  // ---------------------------------------------------------------- terms (§5.1)

  /**
   * Figure 2, Rules for Servers, All Servers: "If RPC request or response contains term T >
   * currentTerm: set currentTerm = T, convert to follower". Returns false to drop the message.
   */
  private onHigherTerm(m: RaftMessage): boolean {
    switch (m.type) {
      case 'RequestVote':
        if (m.preVote) return true; // dissertation §9.6: a pre-vote never changes our term
        // Dissertation §4.2.3: with a live leader, disregard the request and keep our term, unless
        // the leader itself asked for this election (§3.10, leadership transfer).
        if (this.config.checkQuorum && this.inLease() && m.leadershipTransfer !== true) return false;
        // Figure 2, Followers: only AppendEntries from the current leader or a vote we grant
        // restart the election timeout, so the new term alone keeps it running (a leader, whose
        // timeout was not running, starts one). Otherwise candidates whose logs cannot win, on
        // faster clocks, restart every up-to-date replica's timeout with each new term, and no
        // election is ever won (seed 62962882, without pre-vote).
        this.becomeFollower(m.term, null, this.currentRole === 'leader');
        return true;
      case 'RequestVoteResponse':
        if (m.preVote && m.voteGranted) return true; // carries the term we would campaign in
        this.becomeFollower(m.term, null); // a rejection from a later term, pre-vote or not
        return false;
      case 'AppendEntries':
        this.becomeFollower(m.term, m.from);
        return true;
      case 'AppendEntriesResponse':
        this.becomeFollower(m.term, null);
        return false;
      case 'TimeoutNow':
        this.becomeFollower(m.term, m.from); // only the leader of m.term sends it
        return true;
      case 'InstallSnapshot':
        this.becomeFollower(m.term, m.from);
        return true;
      case 'InstallSnapshotResponse':
        this.becomeFollower(m.term, null);
        return false;
      default: {
        const unknown: never = m;
        return unknown;
      }
    }
  }

  /** Figure 2, AppendEntries and RequestVote receiver rule 1: "Reply false if term < currentTerm". */
  private onLowerTerm(m: RaftMessage): void {
    if (m.type === 'AppendEntries') {
      // The answer carries our term, so a stale leader steps down (§5.1). It acknowledges no
      // ReadIndex round: it answers a message of an earlier term, whose round number a leader
      // of our term (restarted, its rounds counted from 0 again) might be reusing.
      this.outAfterPersist.push(this.appendResponse(m, { success: false, conflictIndex: 0, conflictTerm: 0 }, 0));
    } else if (m.type === 'InstallSnapshot') {
      // Figure 13 rule 1; our term makes the stale leader step down. No round acknowledged.
      this.outAfterPersist.push(this.snapshotResponse(m, 0, false, 0));
    } else if (m.type === 'RequestVote') {
      this.sendVoteResponse(m, false);
    }
    // Responses from earlier terms are stale: ignored.
  }

  // ---------------------------------------------------------------- elections (§5.2, §9.6)

  private campaign(): void {
    if (!this.mayCampaign()) {
      this.timer.reset();
      return;
    }
    if (this.config.preVote) this.becomePreCandidate();
    else this.becomeCandidate();
  }

  /** Dissertation §9.6: ask whether we could win before disturbing anyone's term. */
  private becomePreCandidate(): void {
    this.currentRole = 'precandidate';
    this.leaderId = null;
    this.timer.reset();
    this.votes = new VoteTally(this.membership.voters);
    this.votes.record(this.id, true);
    if (this.votes.result() === 'won') return this.becomeCandidate();
    for (const peer of this.otherVoters()) this.outMessages.push(this.voteRequest(peer, this.currentTerm + 1, true));
  }

  /**
   * §5.2: increment currentTerm, vote for self, reset the election timer, send RequestVote.
   * `transfer`: started by TimeoutNow (dissertation §3.10), so the requests may pass leases.
   */
  private becomeCandidate(transfer = false): void {
    this.currentTerm++;
    this.votedFor = this.id;
    this.currentRole = 'candidate';
    this.leaderId = null;
    this.timer.reset();
    this.votes = new VoteTally(this.membership.voters);
    this.votes.record(this.id, true);
    if (this.votes.result() === 'won') return this.becomeLeader();
    // The new term and our own vote must be durable before anyone can count on them.
    for (const peer of this.otherVoters()) {
      const request = this.voteRequest(peer, this.currentTerm, false);
      if (transfer) request.leadershipTransfer = true;
      this.outAfterPersist.push(request);
    }
  }

  /** §5.2: won the election. §8: append a no-op so that earlier entries can commit (§5.4.2). */
  private becomeLeader(): void {
    this.currentRole = 'leader';
    this.leaderId = this.id;
    this.votes = null;
    this.leadership = new LeaderState(
      this.config.electionTimeoutTicks,
      this.config.maxUncommittedBytes ?? DEFAULT_MAX_UNCOMMITTED_BYTES,
      this.log.bytesIn(this.commit + 1, this.log.lastIndex),
    );
    this.syncProgress();
    this.appendEntry('noop', null);
  }

  /**
   * The leader replicates to every member of the configuration in force, learners included
   * (dissertation §4.1, §4.2.1), and to nobody else. Figure 2: a new follower's nextIndex starts
   * at the leader's last log index + 1, its matchIndex at 0.
   */
  private syncProgress(): void {
    const { progress, catchUp } = this.lead;
    const { voters, learners } = this.membership;
    for (const id of [...voters, ...learners]) {
      if (id !== this.id && !progress.has(id)) {
        const pr = new Progress(this.log.lastIndex + 1, this.config.maxInflightAppends);
        pr.heartbeatDue = true; // probe at once: a new member learns of us without waiting a heartbeat
        progress.set(id, pr);
      }
    }
    for (const id of [...progress.keys()]) if (!isMember(this.membership, id)) progress.delete(id);
    for (const id of learners) {
      if (!catchUp.has(id)) catchUp.set(id, { roundEnd: this.log.lastIndex, elapsed: 0, caughtUp: false });
    }
    for (const id of [...catchUp.keys()]) if (!learners.includes(id)) catchUp.delete(id);
  }

  /**
   * Dissertation §4.2: voters campaign; learners and servers outside the configuration wait, except
   * that "a server that is not part of its own latest configuration should still start new
   * elections, as it might still be needed until the Cnew entry is committed" (§4.2.2; it then
   * does not count its own vote, see VoteTally). Without that, a leader that appended its own
   * removal and lost leadership before it committed could leave the others unable to elect
   * anyone: they lack the entry, so it refuses them its vote.
   */
  private mayCampaign(): boolean {
    const { voters, learners } = this.membership;
    if (voters.includes(this.id)) return true;
    if (learners.includes(this.id)) return false;
    return this.members.current.index > this.commit;
  }

  private isVoter(id: NodeId): boolean {
    return this.membership.voters.includes(id);
  }

  private otherVoters(): NodeId[] {
    return this.membership.voters.filter((voter) => voter !== this.id);
  }

  private isCaughtUp(learner: NodeId): boolean {
    return this.lead.catchUp.get(learner)?.caughtUp === true && this.lead.progress.get(learner)?.recentActive === true;
  }

  /**
   * Dissertation §4.2.1: a learner catches up in rounds; each round replicates what the leader
   * held when it began. A round that ends within an election timeout means the learner keeps up,
   * so making it a voter will not stall commits for long.
   */
  private trackCatchUp(learner: NodeId, matchIndex: number): void {
    const round = this.leadership?.catchUp.get(learner); // none: we just stepped down (§4.2.2)
    if (round === undefined || matchIndex < round.roundEnd) return;
    round.caughtUp = round.elapsed < this.config.electionTimeoutTicks;
    round.roundEnd = this.log.lastIndex;
    round.elapsed = 0;
  }

  /** `restartTimer` false: the election timeout keeps running (a higher term from a candidate). */
  private becomeFollower(term: number, leader: NodeId | null, restartTimer = true): void {
    if (this.currentRole === 'leader') this.onLeadershipLost();
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
    }
    this.currentRole = 'follower';
    this.leaderId = leader;
    this.votes = null;
    if (restartTimer) this.timer.reset();
    if (leader !== null) this.timer.heardFromLeader();
  }

  private onLeadershipLost(): void {
    this.outReadsFailed.push(...this.reads.failAll());
    this.leadership = null;
  }

  /** The leader's state; only called where we are leader (an invariant, checked). */
  private get lead(): LeaderState {
    const state = this.leadership;
    invariant(state !== null, () => `${this.id}: leader state used while ${this.currentRole}`);
    return state;
  }

  /**
   * Dissertation §3.10: the leader asks us to start an election now, skipping pre-vote (it would
   * fail: every voter still hears from the leader) with RequestVotes that pass leader leases.
   */
  private handleTimeoutNow(): void {
    if (this.currentRole !== 'follower' || !this.mayCampaign()) return;
    this.becomeCandidate(true);
  }

  /** §5.2 one vote per term, first come first served; §5.4.1 the candidate's log is up to date. */
  private handleRequestVote(m: RequestVote): void {
    if (m.preVote) return this.sendVoteResponse(m, this.grantsPreVote(m));
    const canVote = this.votedFor === m.from || (this.votedFor === null && this.leaderId === null);
    const granted = canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    if (granted) {
      this.votedFor = m.from;
      this.timer.reset(); // Figure 2: the election timeout restarts when we grant a vote
    }
    this.sendVoteResponse(m, granted);
  }

  /**
   * Dissertation §9.6: grant a pre-vote if the candidate's log is up to date and we have not heard
   * from a leader within the election timeout. Nothing changes here, so nothing needs persisting.
   */
  private grantsPreVote(m: RequestVote): boolean {
    return m.term > this.currentTerm && !this.inLease() && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  }

  /**
   * A leader, or a follower that heard from its leader less than an election timeout ago (or, with
   * check-quorum, restarted less than an election timeout ago: `bootLease`).
   */
  private inLease(): boolean {
    if (this.currentRole === 'leader') return true;
    return this.currentRole === 'follower' && (this.leaderId !== null || this.bootLease) && this.timer.leaderRecentlySeen;
  }

  private handleVoteResponse(m: RequestVoteResponse): void {
    if (!this.isCurrentVoteResponse(m) || this.votes === null) return;
    this.votes.record(m.from, m.voteGranted);
    const result = this.votes.result();
    if (result === 'won') {
      if (m.preVote) this.becomeCandidate();
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.currentTerm, null);
    }
  }

  /** Drops answers to earlier rounds: a granted pre-vote carries currentTerm + 1, others currentTerm. */
  private isCurrentVoteResponse(m: RequestVoteResponse): boolean {
    if (m.preVote) {
      const expectedTerm = m.voteGranted ? this.currentTerm + 1 : this.currentTerm;
      return this.currentRole === 'precandidate' && m.term === expectedTerm;
    }
    return this.currentRole === 'candidate' && m.term === this.currentTerm;
  }

  private voteRequest(to: NodeId, term: number, preVote: boolean): RequestVote {
    return {
      type: 'RequestVote',
      from: this.id,
      to,
      term,
      lastLogIndex: this.log.lastIndex,
      lastLogTerm: this.log.lastTerm,
      preVote,
    };
  }

  /**
   * A real vote goes out only after our term and votedFor are durable (Figure 2, "Persistent
   * state ... updated on stable storage before responding to RPCs"); a pre-vote answer changes
   * nothing and goes at once.
   */
  private sendVoteResponse(m: RequestVote, granted: boolean): void {
    const response: RequestVoteResponse = {
      type: 'RequestVoteResponse',
      from: this.id,
      to: m.from,
      term: m.preVote && granted ? m.term : this.currentTerm,
      voteGranted: granted,
      preVote: m.preVote,
    };
    if (m.preVote) this.outMessages.push(response);
    else this.outAfterPersist.push(response);
  }

  // ---------------------------------------------------------------- followers (§5.3)

  private handleAppendEntries(m: AppendEntries): void {
    if (this.currentRole === 'leader') return; // election safety: no other leader in our term
    // §5.2: a candidate that hears from the leader of its term returns to follower.
    if (this.currentRole !== 'follower' || this.leaderId !== m.from) {
      this.becomeFollower(m.term, m.from);
    } else {
      this.timer.reset(); // Figure 2, Followers: AppendEntries from the current leader
      this.timer.heardFromLeader();
    }
    if (m.prevLogIndex < this.log.snapshotIndex) {
      // Raft §7: the entries up to our snapshot are committed, so they match the leader's; we
      // cannot check prevLogTerm there, but we match it up to snapshotIndex. Resume after it.
      this.outAfterPersist.push(this.appendResponse(m, { success: true, matchIndex: this.log.snapshotIndex }));
      return;
    }
    if (m.prevLogIndex > this.log.lastIndex) {
      // AppendEntries receiver rule 2; hint: our log is too short (§5.3 end, dissertation §3.5).
      this.outAfterPersist.push(this.appendResponse(m, { success: false, conflictIndex: this.log.lastIndex + 1, conflictTerm: 0 }));
      return;
    }
    const prevTerm = this.log.term(m.prevLogIndex);
    if (prevTerm !== m.prevLogTerm) {
      // AppendEntries receiver rule 2; hint: the conflicting term and its first index.
      const conflictTerm = prevTerm ?? 0;
      const conflictIndex = this.log.firstIndexOfTerm(conflictTerm);
      this.outAfterPersist.push(this.appendResponse(m, { success: false, conflictIndex, conflictTerm }));
      return;
    }
    const lastNew = this.appendFromLeader(m);
    if (lastNew === null) return; // it contradicts what we committed: not from a correct leader
    // AppendEntries receiver rule 5: commitIndex = min(leaderCommit, index of last new entry).
    const learned = Math.min(m.leaderCommit, lastNew);
    if (learned > this.commit) this.commit = learned;
    this.outAfterPersist.push(this.appendResponse(m, { success: true, matchIndex: lastNew }));
  }

  /**
   * AppendEntries receiver rules 3 and 4: skip entries we already hold, truncate at the first
   * conflict, append the rest. A stale or duplicated message therefore never truncates.
   * Returns the index of the last entry known to match the leader, or null when the message
   * would truncate a committed entry: Leader Completeness (§5.4.1, §5.4.3) says no correct leader
   * sends that, so it comes from a peer with a bug (or a corrupted disk) and is ignored, whole,
   * before the log changes. A replica never crashes on input from outside (docs/design.md §3.7), and a
   * committed entry is never undone.
   */
  private appendFromLeader(m: AppendEntries): number | null {
    for (let k = 0; k < m.entries.length; k++) {
      const entry = m.entries[k] as LogEntry;
      if (entry.index <= this.log.lastIndex) {
        if (this.log.term(entry.index) === entry.term) continue;
        if (entry.index <= this.commit) return null;
        this.log.truncateFrom(entry.index);
        this.members.truncateFrom(entry.index); // dissertation §4.1: back to the previous configuration
      }
      for (let j = k; j < m.entries.length; j++) {
        const appended = m.entries[j] as LogEntry;
        this.log.append(appended);
        this.members.onAppend(appended); // dissertation §4.1: in force once in the log
      }
      break;
    }
    return m.prevLogIndex + m.entries.length;
  }

  /**
   * Raft §7, Figure 13 (InstallSnapshot receiver), with chunks accumulated in order:
   * 1. (term < currentTerm: `onLowerTerm`.)
   * 2-4. a chunk at offset 0 of a snapshot not being received starts it; a chunk at another
   *    offset than the bytes received so far is not taken: the answer names the offset expected,
   *    and the leader resumes from there (a lost or reordered chunk);
   * 5. on `done`, the snapshot is complete:
   * 6. if the log holds its last entry (same index and term), the entries after it are kept;
   * 7. otherwise the whole log is discarded;
   * 8. the state machine is reset from the snapshot (by the runtime: Ready.snapshot).
   * A snapshot that covers nothing beyond our commitIndex (older than ours) is ignored, and
   * answered `done`: we hold all of it.
   * A transfer survives a change of term: the leader, the snapshot's index and term and its chunk
   * count name the bytes, so when the same leader comes back in a later term with the same
   * snapshot, it resumes at the chunk we expect instead of starting over. Seed 286248153: without
   * pre-vote and check-quorum, a removed server's elections (dissertation §4.2.3) bumped the term
   * every election timeout and restarted a 12-chunk transfer to the one follower the leader needed
   * for a majority, forever.
   */
  private handleInstallSnapshot(m: InstallSnapshot): void {
    if (this.currentRole === 'leader') return; // election safety: no other leader in our term
    if (this.currentRole !== 'follower' || this.leaderId !== m.from) {
      this.becomeFollower(m.term, m.from);
    } else {
      this.timer.reset(); // like AppendEntries: the leader is alive
      this.timer.heardFromLeader();
    }
    const index = m.lastIncludedIndex;
    if (index <= this.commit) {
      this.incoming = null;
      this.outAfterPersist.push(this.snapshotResponse(m, index, true, 0));
      return;
    }
    let incoming = this.incoming;
    const same =
      incoming !== null &&
      incoming.leader === m.from &&
      incoming.index === index &&
      incoming.snapshotTerm === m.lastIncludedTerm &&
      incoming.chunks === m.chunks;
    if (!same) {
      incoming = null;
      this.incoming = null;
      if (m.chunk === 0) {
        incoming = { leader: m.from, index, snapshotTerm: m.lastIncludedTerm, chunks: m.chunks, received: 0 };
        this.incoming = incoming;
      }
    }
    // Answers to chunks other than the last claim nothing durable (a restarted replica starts the
    // transfer over), so they go at once: a transfer costs no fsync per chunk.
    if (incoming === null || m.chunk !== incoming.received) {
      this.outMessages.push(this.snapshotResponse(m, index, false, incoming?.received ?? 0));
      return;
    }
    this.outSnapshotChunks.push({ index, chunk: m.chunk, data: m.data });
    incoming.received++;
    if (incoming.received < incoming.chunks) {
      this.outMessages.push(this.snapshotResponse(m, index, false, incoming.received));
      return;
    }
    this.incoming = null;
    this.log.installSnapshot(index, m.lastIncludedTerm); // rules 6 and 7
    // Dissertation §5.1: the snapshot's configuration, then any config entries of the kept tail.
    this.members = new MembershipLog({ index, membership: m.membership }, this.log.slice(index + 1, this.log.lastIndex));
    this.commit = index;
    this.handedToApply = index; // rule 8: the runtime restores the state machine from it
    this.snapshotChunks = incoming.chunks;
    this.outSnapshot = { index, term: m.lastIncludedTerm, chunks: incoming.chunks, membership: m.membership };
    // Sent once the snapshot is durable (Ready contract step 3).
    this.outAfterPersist.push(this.snapshotResponse(m, index, true, incoming.received));
  }

  private snapshotResponse(m: InstallSnapshot, index: number, done: boolean, nextChunk: number): InstallSnapshotResponse {
    return {
      type: 'InstallSnapshotResponse',
      from: this.id,
      to: m.from,
      term: this.currentTerm,
      lastIncludedIndex: index,
      nextChunk,
      done,
      readRound: m.term === this.currentTerm ? m.readRound : 0,
      incarnation: this.config.incarnation ?? 0,
    };
  }

  /**
   * The answer to AppendEntries `m`: a success with the index the follower now matches, or a
   * rejection with the conflict hint (§5.3's optimization: conflictIndex, and the term there).
   * `readRound` acknowledges the leader's ReadIndex round (dissertation §6.4), 0 for none.
   */
  private appendResponse(
    m: AppendEntries,
    answer: { success: true; matchIndex: number } | { success: false; conflictIndex: number; conflictTerm: number },
    readRound = m.readRound,
  ): AppendEntriesResponse {
    return {
      type: 'AppendEntriesResponse',
      from: this.id,
      to: m.from,
      term: this.currentTerm,
      success: answer.success,
      matchIndex: answer.success ? answer.matchIndex : 0,
      conflictIndex: answer.success ? 0 : answer.conflictIndex,
      conflictTerm: answer.success ? 0 : answer.conflictTerm,
      readRound,
      incarnation: this.config.incarnation ?? 0,
    };
  }

  // ---------------------------------------------------------------- leaders (§5.3, §5.4)

  private tickLeader(ticks: number): void {
    const lead = this.lead;
    const timeout = this.config.electionTimeoutTicks;
    lead.quorumElapsed += ticks;
    if (lead.quorumElapsed >= timeout) {
      // More than one period in one call (a paused process): the later ones heard from nobody.
      const periods = Math.floor(lead.quorumElapsed / timeout);
      lead.quorumElapsed -= periods * timeout;
      if (this.config.checkQuorum && !this.quorumActive(periods === 1)) {
        this.becomeFollower(this.currentTerm, null); // check-quorum (dissertation §6.2): cut off
        return;
      }
      for (const pr of lead.progress.values()) pr.recentActive = false;
    }
    for (const round of lead.catchUp.values()) round.elapsed += ticks;
    if (lead.transferTarget !== null) {
      lead.transferElapsed += ticks;
      // Dissertation §3.10: abort after an election timeout; proposals are accepted again.
      if (lead.transferElapsed >= timeout) lead.transferTarget = null;
    }
    lead.heartbeatElapsed += ticks;
    if (lead.heartbeatElapsed >= this.config.heartbeatIntervalTicks) {
      lead.heartbeatElapsed = 0;
      // Figure 2, Leaders: "repeat [empty AppendEntries] during idle periods".
      for (const pr of lead.progress.values()) pr.onHeartbeatTimeout();
      lead.leaseRoundDue = true; // every heartbeat is a round the lease can count from
    }
  }

  /**
   * Dissertation §6.2: did a majority, ourselves included, answer during the last election timeout?
   * `countPeers` false: the period was spent paused, and only we were there.
   */
  private quorumActive(countPeers = true): boolean {
    const voters = this.membership.voters;
    let active = voters.includes(this.id) ? 1 : 0;
    if (countPeers) for (const voter of voters) if (this.lead.progress.get(voter)?.recentActive === true) active++;
    return active >= majority(voters.length);
  }

  /**
   * Dissertation §6.4.1: a majority followed us at or after tick S (the start of the heartbeat
   * round they answered, never the time the answer came), so no other leader can exist before
   * S + electionTimeout on their clocks; we trust our own clock up to the drift bound. Needs
   * check-quorum (followers disregard RequestVote in their lease only with it), and is void for
   * the rest of the term once a TimeoutNow went out (those elections pass leases).
   */
  private leaseValid(): boolean {
    const lead = this.lead;
    if (!leasesOn(this.config) || lead.leaseRevoked || lead.transferTarget !== null) return false;
    const duration = this.config.electionTimeoutTicks - (this.config.leaseDriftTicks ?? DEFAULT_LEASE_DRIFT_TICKS);
    return this.now - lead.lease.since(this.membership.voters, this.id, this.now) < duration;
  }

  /** The follower with the highest matchIndex (the first in `voters` order on a tie). */
  private mostUpToDateFollower(): NodeId | null {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const peer of this.otherVoters()) {
      const match = this.lead.progress.get(peer)?.matchIndex ?? -1;
      if (match > bestMatch) {
        best = peer;
        bestMatch = match;
      }
    }
    return best;
  }

  /** Dissertation §3.10: the target's log matches ours; tell it to campaign now. */
  private sendTimeoutNow(to: NodeId): void {
    const m: TimeoutNow = { type: 'TimeoutNow', from: this.id, to, term: this.currentTerm };
    this.outMessages.push(m);
    this.lead.timeoutNowSent = true;
    this.lead.leaseRevoked = true;
  }

  private appendEntry(kind: LogEntry['kind'], data: Uint8Array | null): LogEntry {
    const entry: LogEntry = { index: this.log.lastIndex + 1, term: this.currentTerm, kind, data };
    this.log.append(entry);
    this.members.onAppend(entry);
    this.lead.uncommitted.appended(entryBytes(entry));
    return entry;
  }

  private handleAppendResponse(m: AppendEntriesResponse): void {
    const pr = this.followerAnswered(m);
    if (pr === undefined) return;
    if (m.success) {
      if (m.matchIndex > this.log.lastIndex) return; // cannot match what we never sent
      if (!this.followerMatched(m.from, pr, pr.onAccepted(m.matchIndex))) return;
    } else {
      const next = this.nextIndexAfterRejection(m, pr);
      if (next < pr.nextIndex) pr.onRejected(next);
    }
    this.afterFollowerAnswer(m.from, pr);
  }

  /**
   * Raft §7: a follower answered an InstallSnapshot chunk. `done`: it holds everything up to
   * lastIncludedIndex, so matchIndex = lastIncludedIndex and normal replication resumes after it.
   * Otherwise the next chunk starts at the offset it expects (resuming after a lost chunk).
   */
  private handleSnapshotResponse(m: InstallSnapshotResponse): void {
    const pr = this.followerAnswered(m);
    if (pr === undefined) return;
    if (m.done) {
      // It holds a prefix of our log up to there (committed entries, or a snapshot of ours).
      const advanced = m.lastIncludedIndex <= this.log.lastIndex && pr.onSnapshotDone(m.lastIncludedIndex);
      if (!this.followerMatched(m.from, pr, advanced)) return;
    } else if (pr.state === 'snapshot' && m.lastIncludedIndex === pr.snapshotIndex) {
      pr.onSnapshotProgress(m.nextChunk < this.snapshotChunks ? m.nextChunk : 0);
    }
    this.afterFollowerAnswer(m.from, pr);
  }

  /**
   * What every answer of a follower in our term says, whatever its kind: it follows us (for
   * check-quorum, ReadIndex rounds and the lease), and maybe that it restarted. Returns its
   * progress, or undefined to ignore the answer (not leader, not a member, an earlier life).
   */
  private followerAnswered(m: AppendEntriesResponse | InstallSnapshotResponse): Progress | undefined {
    if (this.currentRole !== 'leader') return undefined;
    const pr = this.lead.progress.get(m.from);
    if (pr === undefined || m.incarnation < pr.incarnation) return undefined; // from a previous life of the follower
    if (m.incarnation > pr.incarnation) pr.onRestarted(m.incarnation, this.log.lastIndex + 1);
    pr.recentActive = true;
    this.reads.ack(m.from, m.readRound);
    this.lead.lease.ack(m.from, m.readRound);
    return pr;
  }

  /**
   * The follower's matchIndex may have advanced: commit (§5.3), count the learner's catch-up
   * round (dissertation §4.2.1). False if we stepped down, being a removed leader (§4.2.2).
   */
  private followerMatched(from: NodeId, pr: Progress, advanced: boolean): boolean {
    if (advanced) this.maybeCommit();
    this.trackCatchUp(from, pr.matchIndex);
    return this.currentRole === 'leader';
  }

  private afterFollowerAnswer(from: NodeId, pr: Progress): void {
    // Dissertation §3.10: once the target holds our whole log, it may campaign.
    if (from === this.lead.transferTarget && !this.lead.timeoutNowSent && pr.matchIndex === this.log.lastIndex) {
      this.sendTimeoutNow(from);
    }
    this.releaseReads();
  }

  /**
   * Fast back-off (§5.3, last paragraphs; dissertation §3.5): if we hold entries of the
   * follower's conflicting term, resume after our last one; otherwise skip its whole term.
   * A correct, current rejection of the AppendEntries at prevLogIndex = nextIndex - 1 always
   * moves nextIndex back (its hint is at most prevLogIndex, and never at or below a matchIndex the
   * follower acknowledged in this term: Log Matching). One that does not is stale (reordered
   * behind a later answer) or false, and the caller ignores it, as etcd-io/raft does: acting on
   * it would re-send the same probe at once, and a follower that keeps rejecting it (a peer with
   * a bug) would start a message storm with no tick in between.
   */
  private nextIndexAfterRejection(m: AppendEntriesResponse, pr: Progress): number {
    let next = m.conflictIndex;
    if (m.conflictTerm > 0) {
      const ourLast = this.log.lastIndexOfTerm(m.conflictTerm);
      if (ourLast > 0) next = ourLast + 1;
    }
    return Math.min(Math.max(next, pr.matchIndex + 1), this.log.lastIndex + 1);
  }

  /**
   * §5.3, §5.4.2, Figure 2 Leaders: commitIndex = N if a majority have matchIndex >= N and
   * log[N].term == currentTerm. The leader counts only its durable entries (dissertation §10.2.1).
   */
  private maybeCommit(): void {
    // Dissertation §4.1: a majority of the configuration in force; a leader outside it (being
    // removed, §4.2.2) replicates but does not count itself.
    const matches = this.membership.voters.map((voter) =>
      voter === this.id ? this.log.durableIndex : (this.lead.progress.get(voter)?.matchIndex ?? 0),
    );
    const candidate = majorityValue(matches);
    if (candidate <= this.commit || this.log.term(candidate) !== this.currentTerm) return;
    this.lead.uncommitted.committed(this.log.bytesIn(this.commit + 1, candidate));
    this.commit = candidate;
    this.reads.onTermCommitted(this.commit);
    if (!this.isVoter(this.id) && this.members.current.index <= this.commit) this.stepDownRemoved();
  }

  /**
   * Dissertation §4.2.2: a leader removed from the configuration steps down once that
   * configuration is committed. It hands over to the most up-to-date voter with TimeoutNow
   * (§3.10) if one holds its whole log, so the cluster need not wait for an election timeout.
   */
  private stepDownRemoved(): void {
    const successor = this.mostUpToDateFollower();
    if (successor !== null && this.lead.progress.get(successor)?.matchIndex === this.log.lastIndex) {
      this.sendTimeoutNow(successor);
    }
    this.becomeFollower(this.currentTerm, null);
  }

  /** Has the leader committed an entry of its own term (dissertation §6.4 step 1)? */
  private termCommitted(): boolean {
    return this.log.term(this.commit) === this.currentTerm;
  }

  private leaderHasWork(): boolean {
    if (this.reads.hasUnassigned()) return true;
    const last = this.log.lastIndex;
    for (const pr of this.lead.progress.values()) if (pr.nextSend(last, this.commit) !== null) return true;
    return false;
  }

  /** Builds this Ready's AppendEntries: one ReadIndex round, then every follower's batch. */
  private prepareLeaderSends(): void {
    const lead = this.lead;
    const readsWaiting = this.reads.hasUnassigned();
    if (readsWaiting || lead.leaseRoundDue) {
      // Every message built from here on leaves at or after tick `now` (dissertation §6.4.1).
      lead.lease.onRoundStarted(this.reads.startRound(), this.now);
      lead.leaseRoundDue = false;
      if (readsWaiting) for (const pr of lead.progress.values()) pr.heartbeatDue = true;
    }
    for (const [peer, pr] of lead.progress) this.sendAppends(peer, pr);
    this.releaseReads(); // a single-voter cluster confirms at once
  }

  private sendAppends(to: NodeId, pr: Progress): void {
    this.maybeSendSnapshot(pr);
    for (let kind = pr.nextSend(this.log.lastIndex, this.commit); kind !== null; ) {
      if (kind === 'snapshot') {
        this.sendSnapshotChunk(to, pr);
        pr.onSent(0, true, this.commit);
      } else {
        const lastSent = this.sendAppend(to, pr, kind === 'entries');
        pr.onSent(lastSent, kind === 'entries', this.commit);
      }
      kind = pr.nextSend(this.log.lastIndex, this.commit);
    }
  }

  /**
   * Raft §7: "the leader must occasionally send snapshots to followers that lag behind", when the
   * entry before nextIndex is compacted away. A newer snapshot replaces one being sent (the
   * leader keeps only its latest), and the transfer starts over.
   */
  private maybeSendSnapshot(pr: Progress): void {
    const snapshotIndex = this.log.snapshotIndex;
    if (pr.state === 'snapshot') {
      if (pr.snapshotIndex !== snapshotIndex) pr.becomeSnapshot(snapshotIndex);
    } else if (pr.nextIndex <= snapshotIndex) {
      pr.becomeSnapshot(snapshotIndex);
    }
  }

  /** One InstallSnapshot, of the chunk the follower expects; the runtime fills in its bytes. */
  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const chunks = this.snapshotChunks;
    invariant(chunks > 0, () => `${this.id}: snapshot ${this.log.snapshotIndex} without chunks`);
    this.outMessages.push({
      type: 'InstallSnapshot',
      from: this.id,
      to,
      term: this.currentTerm,
      lastIncludedIndex: this.log.snapshotIndex,
      lastIncludedTerm: this.log.snapshotTerm,
      chunk: Math.min(pr.snapshotChunk, chunks - 1),
      chunks,
      data: NO_BYTES,
      readRound: this.reads.currentRound,
      membership: this.members.at(this.log.snapshotIndex).membership,
    });
  }

  /** One AppendEntries from nextIndex, entries bounded by maxAppendBytes; returns its last index. */
  private sendAppend(to: NodeId, pr: Progress, withEntries: boolean): number {
    const prevLogIndex = pr.nextIndex - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    invariant(prevLogTerm !== undefined, () => `${this.id}: nextIndex ${pr.nextIndex} for ${to} outside log`);
    const entries = withEntries ? this.log.sliceBytes(pr.nextIndex, this.config.maxAppendBytes) : [];
    this.outMessages.push({
      type: 'AppendEntries',
      from: this.id,
      to,
      term: this.currentTerm,
      prevLogIndex,
      prevLogTerm,
      entries,
      leaderCommit: this.commit,
      readRound: this.reads.currentRound,
    });
    return prevLogIndex + entries.length;
  }

  private releaseReads(): void {
    for (const read of this.reads.release(this.membership.voters, this.id)) this.outReadStates.push(read);
  }

  // ---------------------------------------------------------------- Ready helpers

  private softState(): SoftState {
    return { role: this.currentRole, leader: this.leaderId, term: this.currentTerm };
  }

  private hardState(): HardState {
    return { currentTerm: this.currentTerm, votedFor: this.votedFor, commitIndex: this.commit };
  }

  private softStateChanged(): boolean {
    const last = this.lastSoft;
    return last.role !== this.currentRole || last.leader !== this.leaderId || last.term !== this.currentTerm;
  }

  private hardStateChanged(): boolean {
    const last = this.lastHard;
    return last.currentTerm !== this.currentTerm || last.votedFor !== this.votedFor || last.commitIndex !== this.commit;
  }

  private takeSoftState(): SoftState | null {
    if (!this.softStateChanged()) return null;
    this.lastSoft = this.softState();
    return this.lastSoft;
  }

  private takeHardState(): HardState | null {
    if (!this.hardStateChanged()) return null;
    this.lastHard = this.hardState();
    return this.lastHard;
  }

  private takeCommitted(): LogEntry[] {
    if (this.handedToApply >= this.commit) return [];
    const committed = this.log.slice(this.handedToApply + 1, this.commit);
    this.handedToApply = this.commit;
    return committed;
  }

  private progressStatus(): NonNullable<RaftStatus['progress']> {
    const out: NonNullable<RaftStatus['progress']> = {};
    for (const [peer, pr] of this.lead.progress) {
      out[peer] = { matchIndex: pr.matchIndex, nextIndex: pr.nextIndex, inflight: pr.inflight.size };
    }
    return out;
  }
}

/** Lease reads need check-quorum: followers disregard RequestVote in a leader lease only with it. */
function leasesOn(config: RaftConfig): boolean {
  return config.leaseReads === true && config.checkQuorum;
}

/** RaftConfig.leaseDriftTicks when not set. */
export const DEFAULT_LEASE_DRIFT_TICKS = 2;

function assertValidConfig(config: RaftConfig): void {
  invariant(config.voters.length > 0, 'voters must not be empty');
  invariant(new Set(config.voters).size === config.voters.length, 'voters must be distinct');
  invariant(Number.isInteger(config.electionTimeoutTicks) && config.electionTimeoutTicks >= 1, 'electionTimeoutTicks >= 1');
  invariant(Number.isInteger(config.heartbeatIntervalTicks) && config.heartbeatIntervalTicks >= 1, 'heartbeatIntervalTicks >= 1');
  invariant(config.maxAppendBytes >= 1, 'maxAppendBytes >= 1');
  invariant(Number.isInteger(config.maxInflightAppends) && config.maxInflightAppends >= 1, 'maxInflightAppends >= 1');
  const drift = config.leaseDriftTicks ?? DEFAULT_LEASE_DRIFT_TICKS;
  invariant(Number.isInteger(drift) && drift >= 1, 'leaseDriftTicks >= 1');
  const every = config.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
  invariant(Number.isInteger(every) && every >= 0, 'snapshotEvery >= 0');
}

/** The data of an InstallSnapshot as the core emits it: the runtime fills in the chunk's bytes. */
const NO_BYTES = new Uint8Array(0);
