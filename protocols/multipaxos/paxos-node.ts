/**
 * MultiPaxosNode: one Multi-Paxos replica as a deterministic state machine (docs/design.md §2.1), built
 * from the roles of "Paxos Made Moderately Complex" (PMMC): every replica process hosts an
 * acceptor (acceptor.ts), a leader with its scout (scout.ts, phase 1) and commanders
 * (commander.ts, phase 2), and a replica (`slotIn`, `slotOut`, `decisions`, `proposals` here).
 * What the leader keeps only while it is active is one LeaderState (leader-state.ts).
 * On top of PMMC it is a practical Multi-Paxos: a stable leader runs phase 1 once for all slots,
 * detects failure by heartbeats, takes over with randomized backoff, batches commands into slots,
 * pipelines slots within a window, fills gaps with no-ops, lets a replica catch up on decisions it
 * missed, collects decided slots behind snapshots the runtime takes, and transfers those snapshots
 * chunk by chunk. It is driven exactly like the Raft core: tick/step/propose/readIndex/
 * snapshotSaved in, Ready out (types.ts). README.md maps every PMMC rule to a function here.
 */
import { invariant } from '../common/invariant.js';
import { majority } from '../common/quorum.js';
import type { Rng } from '../common/rng.js';
import { Acceptor } from './acceptor.js';
import { compareBallots, formatBallot, maxBallot, nextBallot, sameBallot } from './ballot.js';
import { Commander } from './commander.js';
import { IncomingSnapshot } from './incoming-snapshot.js';
import { type Batch, LeaderState } from './leader-state.js';
import { Scout } from './scout.js';
import { SlotCommands } from './slot-commands.js';
import type {
  Ballot,
  CatchUp,
  Command,
  Decision,
  DecisionMessage,
  Heartbeat,
  HeartbeatAck,
  NodeId,
  P1a,
  P1b,
  P2a,
  P2b,
  PaxosConfig,
  PaxosMessage,
  PaxosStatus,
  ProposeResult,
  PValue,
  ReadState,
  Ready,
  ReceivedChunk,
  RestoredState,
  Role,
  Snapshot,
  SnapshotChunk,
  SnapshotFetch,
  SnapshotOffer,
  SoftState,
} from './types.js';
import { DEFAULT_SNAPSHOT_EVERY } from './types.js';

/** SnapshotChunk.data as the core sends it: the runtime fills in the chunk's bytes. */
const NO_BYTES = new Uint8Array(0);

export class MultiPaxosNode {
  readonly id: NodeId;
  private readonly config: PaxosConfig;
  private readonly peers: readonly NodeId[];
  private readonly members: ReadonlySet<NodeId>;
  private readonly rng: Rng;

  // PMMC acceptor.
  private readonly acceptor: Acceptor;

  // PMMC replica: decisions (off the heap: slot-commands.ts) and slot_out (the next slot handed
  // to the state machine).
  private readonly decisions = new SlotCommands();
  private unstableDecisions: Decision[] = [];
  private slotOutNext = 1;
  private maxDecided = 0;

  // Garbage collection and state transfer (README.md, "Garbage collection and snapshots").
  /** Every slot <= compactedTo is applied here and its decision and pvalue are dropped. */
  private compactedTo = 0;
  /**
   * The stored snapshot: saved durably by the runtime (snapshotSaved) or received from a peer.
   * Compaction never passes it (compactedTo <= its slot), and it is what peers are offered.
   */
  private snapshot: Snapshot | null = null;
  /** The GC point: every replica has applied every slot <= it (the leader's minimum, or its word). */
  private gcPoint = 0;
  /** Leader: the applied slot each peer last reported in a HeartbeatAck. */
  private readonly appliedBy = new Map<NodeId, number>();
  private readonly snapshotEvery: number;
  private readonly gcStep: number;
  /** A received snapshot, installed (slot_out moved past it) and handed out in the next Ready. */
  private pendingInstall: Snapshot | null = null;
  /** Peers that asked for garbage-collected slots: they are offered the stored snapshot. */
  private readonly offersTo = new Set<NodeId>();
  /** A snapshot being fetched from a peer, chunk by chunk (incoming-snapshot.ts). */
  private incoming: IncomingSnapshot | null = null;
  /** Chunks received for the next Ready (persist.snapshotChunks). */
  private outSnapshotChunks: ReceivedChunk[] = [];
  private readonly fetchRetryTicks: number;
  private readonly fetchGiveUpTicks: number;

  // PMMC leader. A follower has neither a scout nor a leadership; a candidate (inactive leader)
  // has its scout, which holds the ballot it tries; an active leader has its LeaderState, whose
  // ballot is the leader's ballot_num.
  private currentRole: Role = 'follower';
  private leaderId: NodeId | null = null;
  /** The highest ballot seen anywhere: a new ballot goes above it. */
  private knownBallot: Ballot;
  /** Candidate: PMMC Figure 6, phase 1 for our ballot. */
  private scout: Scout | null = null;
  /** Candidate: ticks since the scout's P1a went out; resent every heartbeat interval. */
  private p1aElapsed = 0;
  /**
   * Leader: its commanders, batches, reads, heartbeat and check-quorum clocks (leader-state.ts),
   * created on adoption and dropped when it steps down.
   */
  private leadership: LeaderState | null = null;
  /** PMMC replica slot_in: the next slot a leader here assigns (reported by status() on any role). */
  private slotIn = 1;

  // Failure detection and backoff.
  private electionElapsed = 0;
  private electionTimeout = 0;

  /** Read index: the last heartbeat round; it only grows, across leaderships (see LeaderState). */
  private readRound = 0;

  // Outputs collected for the next Ready.
  private outMessages: PaxosMessage[] = [];
  private outAfterPersist: PaxosMessage[] = [];
  /** Our own acceptor's answers to our own leader: delivered in advance(), after the persist. */
  private selfAfterPersist: PaxosMessage[] = [];
  private outDecisions: Decision[] = [];
  private outReadStates: ReadState[] = [];
  private outReadsFailed: number[] = [];
  private lastSoft: SoftState;
  private outstanding: Ready | null = null;
  private outstandingSelf: PaxosMessage[] = [];

  constructor(config: PaxosConfig, rng: Rng, restored: RestoredState) {
    assertValidConfig(config);
    this.config = config;
    this.id = config.id;
    this.rng = rng;
    this.peers = config.replicas.filter((r) => r !== config.id);
    this.members = new Set(config.replicas);
    this.snapshotEvery = config.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    this.gcStep = Math.max(1, Math.floor(this.snapshotEvery / 4));
    // A lost fetch or chunk is asked for again after a couple of heartbeat intervals; a source
    // silent for a few election timeouts is taken for dead.
    this.fetchRetryTicks = Math.max(2, 2 * config.heartbeatIntervalTicks);
    this.fetchGiveUpTicks = 4 * config.electionTimeoutTicks;
    this.snapshot = restored.snapshot ?? null;
    const snap = this.snapshot?.slot ?? 0;
    this.compactedTo = snap;
    this.slotOutNext = snap + 1;
    this.maxDecided = snap;
    this.acceptor = new Acceptor(restored.ballotNum, restored.accepted.filter((pv) => pv.slot > snap));
    for (const d of restored.decisions) if (d.slot > snap) this.recordDecision(d.slot, d.command);
    this.knownBallot = restored.ballotNum;
    this.resetElectionTimer();
    this.lastSoft = this.softState();
  }

  get role(): Role {
    return this.currentRole;
  }

  get leader(): NodeId | null {
    return this.leaderId;
  }

  /** The leader's ballot when leading, else the highest ballot known. */
  get currentBallot(): Ballot {
    return this.leadership?.ballot ?? this.knownBallot;
  }

  /** PMMC slot_out: the next slot to hand to the state machine. */
  get slotOut(): number {
    return this.slotOutNext;
  }

  decisionAt(slot: number): Command | undefined {
    return this.decisions.command(slot);
  }

  hasDecision(slot: number): boolean {
    return this.decisions.has(slot);
  }

  acceptedAt(slot: number): PValue | undefined {
    return this.acceptor.acceptedAt(slot);
  }

  get ballotNum(): Ballot {
    return this.acceptor.ballotNum;
  }

  /** Every slot <= this is garbage-collected here (covered by a snapshot). */
  get compactionPoint(): number {
    return this.compactedTo;
  }

  /** The slot of the stored snapshot (0: none). */
  get snapshotSlot(): number {
    return this.snapshot?.slot ?? 0;
  }

  /** The GC point this replica knows of (the leader computes it). */
  get gcSlot(): number {
    return this.gcPoint;
  }

  status(): PaxosStatus {
    return {
      id: this.id,
      role: this.currentRole,
      ballot: this.currentBallot,
      leader: this.leaderId,
      slotIn: this.slotIn,
      slotOut: this.slotOutNext,
      decided: this.decisions.size,
      inflight: this.leadership?.commanders.size ?? 0,
      compactedTo: this.compactedTo,
      snapshotSlot: this.snapshotSlot,
      fetching: this.incoming === null ? null : { from: this.incoming.from, slot: this.incoming.slot, chunks: this.incoming.chunks, received: this.incoming.received },
    };
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    this.tickIncoming();
    if (this.currentRole === 'leader') return this.tickLeader();
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.startScout(); // the leader we followed is silent (or our scout stalled): take over
      return;
    }
    if (this.currentRole === 'candidate') {
      this.p1aElapsed++;
      if (this.p1aElapsed >= this.config.heartbeatIntervalTicks) {
        this.p1aElapsed = 0;
        this.resendP1a();
      }
    }
  }

  /** Handles any message from a peer: stale, duplicated, reordered ones included. */
  step(m: PaxosMessage): void {
    if (m.to !== this.id || m.from === this.id || !this.members.has(m.from)) return;
    this.dispatch(m);
  }

  /**
   * PMMC replica `propose`, with batching: every proposal made before the next Ready shares one
   * slot (up to maxBatchBytes); while the window is full, the batch keeps growing.
   */
  propose(data: Uint8Array): ProposeResult {
    if (this.currentRole !== 'leader') return { ok: false, reason: 'not-leader', leader: this.leaderId };
    const lead = this.lead;
    let batch = lead.batches[lead.batches.length - 1];
    if (batch === undefined || (batch.payloads.length > 0 && batch.bytes + data.byteLength > this.config.maxBatchBytes)) {
      batch = { slot: this.slotIn++, payloads: [], bytes: 0 };
      lead.batches.push(batch);
    }
    batch.payloads.push(data);
    batch.bytes += data.byteLength;
    return { ok: true, slot: batch.slot, ballot: lead.ballot, position: batch.payloads.length - 1 };
  }

  /**
   * A linearizable read: confirm with a quorum round of heartbeats that no higher ballot was
   * adopted, then serve once every slot this leader proposed is applied (README.md, Reads).
   */
  readIndex(ctx: number): void {
    if (this.currentRole !== 'leader') {
      this.outReadsFailed.push(ctx);
      return;
    }
    const lead = this.lead;
    lead.reads.push({ ctx, slot: Math.max(lead.highestStarted, this.slotOutNext - 1), round: 0 });
  }

  /**
   * The runtime took a snapshot of its state machine at `slot` (its applied slot when the snapshot
   * began) and saved it durably, as `chunks` chunks (Ready.snapshotWanted). Compaction may now go
   * up to it, and it is what peers are offered. Returns false, changing nothing, if the stored
   * snapshot is as new or newer (one received from a peer overtook it).
   */
  snapshotSaved(slot: number, chunks: number): boolean {
    invariant(Number.isSafeInteger(slot) && slot >= 1, () => `snapshotSaved(${slot}): not a slot`);
    invariant(Number.isSafeInteger(chunks) && chunks >= 1, () => `snapshotSaved(${slot}): ${chunks} chunks`);
    invariant(slot < this.slotOutNext, () => `${this.id}: snapshotSaved(${slot}) beyond the applied slot ${this.slotOutNext - 1}`);
    if (slot <= this.snapshotSlot) return false;
    this.snapshot = { slot, chunks };
    return true;
  }

  // ---------------------------------------------------------------- Ready contract

  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    return (
      this.outMessages.length > 0 ||
      this.outAfterPersist.length > 0 ||
      this.selfAfterPersist.length > 0 ||
      this.outDecisions.length > 0 ||
      this.outReadStates.length > 0 ||
      this.outReadsFailed.length > 0 ||
      this.acceptor.hasUnstable() ||
      this.unstableDecisions.length > 0 ||
      this.decisions.has(this.slotOutNext) ||
      this.pendingInstall !== null ||
      this.offersTo.size > 0 ||
      this.outSnapshotChunks.length > 0 ||
      this.compactionTarget() !== null ||
      this.softStateChanged() ||
      (this.currentRole === 'leader' && (this.canStartBatch() || this.lead.hasUnassignedReads()))
    );
  }

  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called again before advance()');
    // Before takeDecided: every slot < slot_out was handed out by an earlier, advanced Ready, so
    // the runtime has applied it and its snapshot covers it.
    const compactTo = this.compactionTarget();
    if (compactTo !== null && this.pendingInstall === null) this.compact(compactTo);
    const installSnapshot = this.pendingInstall;
    this.pendingInstall = null;
    for (const to of this.offersTo) this.offerSnapshot(to);
    this.offersTo.clear();
    const decided = this.takeDecided();
    if (this.currentRole === 'leader') this.prepareLeaderSends();
    this.flushDecisions();
    const acc = this.acceptor.takeUnstable();
    const rd: Ready = {
      softState: this.takeSoftState(),
      persist: {
        ballotNum: acc.ballotNum,
        accepted: acc.accepted,
        decisions: this.unstableDecisions,
        snapshotChunks: this.outSnapshotChunks,
        snapshot: installSnapshot,
        compactTo,
      },
      messages: this.outMessages,
      messagesAfterPersist: this.outAfterPersist,
      decided,
      readStates: this.outReadStates,
      readsFailed: this.outReadsFailed,
      installSnapshot,
      // After takeDecided: the runtime has applied everything up to slot_out - 1 by step 6.
      snapshotWanted: this.snapshotWanted(),
    };
    this.unstableDecisions = [];
    this.outSnapshotChunks = [];
    this.outMessages = [];
    this.outAfterPersist = [];
    this.outReadStates = [];
    this.outReadsFailed = [];
    this.outstanding = rd;
    this.outstandingSelf = this.selfAfterPersist;
    this.selfAfterPersist = [];
    return rd;
  }

  /** The Ready is durable: our own acceptor's P1b/P2b may now count for our own leader. */
  advance(rd: Ready): void {
    invariant(rd === this.outstanding, 'advance() must get the Ready returned by the last ready()');
    this.outstanding = null;
    const local = this.outstandingSelf;
    this.outstandingSelf = [];
    for (const m of local) this.dispatch(m);
  }

  // ---------------------------------------------------------------- dispatch

  private dispatch(m: PaxosMessage): void {
    switch (m.type) {
      case 'P1a':
        return this.onP1a(m);
      case 'P1b':
        return this.onP1b(m);
      case 'P2a':
        return this.onP2a(m);
      case 'P2b':
        return this.onP2b(m);
      case 'Decision':
        return this.onDecision(m);
      case 'Heartbeat':
        return this.onHeartbeat(m);
      case 'HeartbeatAck':
        return this.onHeartbeatAck(m);
      case 'CatchUp':
        return this.onCatchUp(m);
      case 'SnapshotOffer':
        return this.onSnapshotOffer(m);
      case 'SnapshotFetch':
        return this.onSnapshotFetch(m);
      case 'SnapshotChunk':
        return this.onSnapshotChunk(m);
      default: {
        const unknown: never = m;
        return unknown;
      }
    }
  }

  /** Sends to a peer, or hands a message to our own role: acceptor answers wait for the persist. */
  private send(m: PaxosMessage, afterPersist: boolean): void {
    if (m.to === this.id) {
      if (afterPersist) this.selfAfterPersist.push(m);
      else this.dispatch(m);
    } else if (afterPersist) {
      this.outAfterPersist.push(m);
    } else {
      this.outMessages.push(m);
    }
  }

  /** Any ballot above ours preempts our leader or scout (PMMC leader, on ⟨preempted, b'⟩). */
  private observeBallot(b: Ballot): void {
    if (compareBallots(b, this.knownBallot) > 0) this.knownBallot = b;
    const ours = this.leadership?.ballot ?? this.scout?.ballot; // none: a follower
    if (ours !== undefined && compareBallots(b, ours) > 0) this.preempted(b);
  }

  // ---------------------------------------------------------------- acceptor (PMMC Fig. 4)

  private onP1a(m: P1a): void {
    this.observeBallot(m.ballot);
    const before = this.acceptor.ballotNum;
    const { ballotNum, accepted } = this.acceptor.onP1a(m.ballot, m.fromSlot);
    if (m.from !== this.id && compareBallots(ballotNum, before) > 0) {
      // A would-be leader with a higher ballot: give it a full timeout before we try (backoff).
      this.leaderId = null;
      this.resetElectionTimer();
    }
    const p1b: P1b = { type: 'P1b', from: this.id, to: m.from, request: m.ballot, ballotNum, accepted, compactedTo: this.compactedTo };
    this.send(p1b, true); // a promise: only once it is durable
  }

  private onP2a(m: P2a): void {
    this.observeBallot(m.pvalue.ballot);
    // A slot already decided, applied and collected here: nothing to accept. The proposer is behind
    // (it would retransmit forever): it is offered our snapshot, which decides that slot for it.
    if (m.pvalue.slot <= this.compactedTo) {
      if (m.from !== this.id) this.offersTo.add(m.from);
      return;
    }
    const ballotNum = this.acceptor.onP2a(m.pvalue);
    if (m.from !== this.id && sameBallot(ballotNum, m.pvalue.ballot)) this.follow(m.from);
    const p2b: P2b = { type: 'P2b', from: this.id, to: m.from, ballotNum, slot: m.pvalue.slot };
    this.send(p2b, true); // an acceptance: only once it is durable
  }

  /** Heartbeats are answered by the acceptor; they change nothing durable, so go at once. */
  private onHeartbeat(m: Heartbeat): void {
    this.observeBallot(m.ballot);
    const ballotNum = this.acceptor.ballotNum;
    if (compareBallots(m.ballot, ballotNum) >= 0) {
      this.follow(m.from);
      this.gcPoint = m.gcSlot;
      const first = this.firstUndecided();
      // While a snapshot is being fetched, its transfer brings us past the gap (README.md).
      if (m.slotOut > first && this.incoming === null) this.send({ type: 'CatchUp', from: this.id, to: m.from, fromSlot: first }, false);
    }
    const ack: HeartbeatAck = {
      type: 'HeartbeatAck',
      from: this.id,
      to: m.from,
      ballotNum,
      readRound: m.readRound,
      applied: this.slotOutNext - 1,
    };
    this.send(ack, false);
  }

  private follow(leader: NodeId): void {
    if (this.currentRole !== 'follower') return;
    this.leaderId = leader;
    this.electionElapsed = 0;
  }

  // ---------------------------------------------------------------- scout (PMMC Fig. 6)

  /**
   * PMMC leader: "ballot_num := (r' + 1, λ); spawn(Scout(λ, acceptors, ballot_num))", one scout
   * for every slot from the first undecided one. Our own promise is made first and the P1a go
   * out only after it is durable, so a restarted replica never reuses a ballot.
   */
  private startScout(): void {
    const b = nextBallot(maxBallot(this.knownBallot, this.acceptor.ballotNum), this.id);
    this.becomeFollowerState();
    this.currentRole = 'candidate';
    this.knownBallot = b;
    this.scout = new Scout(b, this.firstUndecided(), this.config.replicas);
    this.resetElectionTimer();
    this.p1aElapsed = 0;
    this.dispatch(this.p1a(this.id)); // our own acceptor promises first, in this Ready
    for (const to of this.peers) this.send(this.p1a(to), true);
  }

  private resendP1a(): void {
    if (this.scout === null) return;
    for (const to of this.scout.waitfor) if (to !== this.id) this.send(this.p1a(to), true);
  }

  private p1a(to: NodeId): P1a {
    invariant(this.scout !== null, 'p1a without a scout');
    return { type: 'P1a', from: this.id, to, ballot: this.scout.ballot, fromSlot: this.scout.fromSlot };
  }

  private onP1b(m: P1b): void {
    this.observeBallot(m.ballotNum);
    const scout = this.scout;
    if (this.currentRole !== 'candidate' || scout === null || !sameBallot(m.request, scout.ballot)) return;
    const result = scout.onP1b(m.from, m.ballotNum, m.accepted, m.compactedTo);
    if (result.kind === 'adopted') this.adopted(scout, result.pvalues);
    else if (result.kind === 'preempted') this.preempted(result.ballot);
  }

  /**
   * PMMC leader, on ⟨adopted, ballot_num, pvals⟩: "proposals := proposals ⊳ pmax(pvals); for all
   * ⟨s, c⟩ ∈ proposals: spawn(Commander(...)); active := true". Multi-Paxos: slots the quorum
   * knew nothing about, below the highest one, are gaps and get a no-op; decided slots are skipped.
   * Becoming active is creating the LeaderState: every leader-only field starts fresh there.
   */
  private adopted(scout: Scout, pvalues: ReadonlyMap<number, PValue>): void {
    if (!this.plausibleAdoption(scout, pvalues)) {
      // A P1b named slots no correct acceptor can hold: try again after a timeout (preempted).
      this.becomeFollowerState();
      this.resetElectionTimer();
      return;
    }
    this.currentRole = 'leader';
    this.leaderId = this.id;
    this.scout = null;
    // Slots <= a P1b's compaction point are decided (that acceptor applied them): propose nothing
    // there, not even a no-op, and fetch them (a snapshot) from that acceptor.
    const collected = scout.compactedTo;
    let top = Math.max(this.maxDecided, scout.fromSlot - 1, collected);
    for (const slot of pvalues.keys()) top = Math.max(top, slot);
    const by = scout.compactedBy;
    const catchUpFrom = by !== null && by !== this.id && collected >= this.firstUndecided() ? { slot: collected, from: by } : null;
    const lead = new LeaderState(scout.ballot, top, catchUpFrom);
    this.leadership = lead;
    this.sendCatchUp(); // at once, if an acceptor collected slots we lack
    for (let slot = Math.max(scout.fromSlot, collected + 1); slot <= top; slot++) {
      if (this.decisions.has(slot)) continue;
      const pv = pvalues.get(slot);
      const command: Command = pv !== undefined ? pv.command : { kind: 'noop', origin: lead.ballot, payloads: [] };
      this.startCommander(slot, command);
    }
    this.slotIn = top + 1;
    this.broadcastHeartbeat(); // announce the new leader at once
  }

  /**
   * PMMC replica: a leader proposes slot s only while s < slot_out + WINDOW, so every slot at or
   * below s - WINDOW was decided, hence accepted by a majority, hence held by some acceptor of any
   * quorum (or collected: <= a P1b's compactedTo). So between the first slot adoption proposes and
   * the highest accepted or decided one, all but the top WINDOW slots are covered by a pvalue or a
   * decision we know. More uncovered than that comes from a peer with a bug (a pvalue or a
   * Decision at slot 2^31, say), and filling every gap with a no-op would allocate without bound.
   * Counting is O(pvalues + decisions), not O(top - first).
   */
  private plausibleAdoption(scout: Scout, pvalues: ReadonlyMap<number, PValue>): boolean {
    const first = Math.max(scout.fromSlot, scout.compactedTo + 1);
    let top = Math.max(first - 1, this.maxDecided); // adopted() fills up to our highest decision too
    for (const slot of pvalues.keys()) top = Math.max(top, slot);
    let covered = 0;
    for (const slot of pvalues.keys()) if (slot >= first) covered++;
    for (const slot of this.decisions.slots()) if (slot >= first && slot <= top && !pvalues.has(slot)) covered++;
    return top - first + 1 - covered <= this.config.window;
  }

  /**
   * PMMC leader, on ⟨preempted, ⟨r', λ'⟩⟩: active := false. Instead of spawning a new scout at
   * once (two leaders would duel), wait a randomized timeout for the new leader's heartbeats.
   */
  private preempted(b: Ballot): void {
    if (compareBallots(b, this.knownBallot) > 0) this.knownBallot = b;
    this.becomeFollowerState();
    this.resetElectionTimer();
  }

  /**
   * Drops the scout or the leadership (PMMC: active := false): a leader's pending reads fail, its
   * commanders and batches go with its LeaderState.
   */
  private becomeFollowerState(): void {
    const lead = this.leadership;
    if (lead !== null) for (const read of lead.reads) this.outReadsFailed.push(read.ctx);
    this.currentRole = 'follower';
    this.leaderId = null;
    this.scout = null;
    this.leadership = null;
  }

  /** The leader's state; only called where we are leader (an invariant, checked). */
  private get lead(): LeaderState {
    const state = this.leadership;
    invariant(state !== null, () => `${this.id}: leader state used while ${this.currentRole}`);
    return state;
  }

  // ---------------------------------------------------------------- commanders (PMMC Fig. 5)

  /** PMMC leader: spawn(Commander(λ, acceptors, replicas, ⟨ballot_num, s, c⟩)). */
  private startCommander(slot: number, command: Command): void {
    const lead = this.lead;
    const pvalue: PValue = { ballot: lead.ballot, slot, command };
    lead.commanders.set(slot, new Commander(pvalue, this.config.replicas));
    if (slot > lead.highestStarted) lead.highestStarted = slot;
    for (const to of this.config.replicas) this.send({ type: 'P2a', from: this.id, to, pvalue }, false);
  }

  private onP2b(m: P2b): void {
    this.observeBallot(m.ballotNum);
    if (this.currentRole !== 'leader') return;
    const commanders = this.lead.commanders;
    const commander = commanders.get(m.slot);
    if (commander === undefined) return;
    const result = commander.onP2b(m.from, m.ballotNum);
    if (result.kind === 'decided') {
      commanders.delete(m.slot);
      this.learn(m.slot, commander.pvalue.command);
      this.outDecisions.push({ slot: m.slot, command: commander.pvalue.command });
    } else if (result.kind === 'preempted') {
      this.preempted(result.ballot);
    }
  }

  private tickLeader(): void {
    const lead = this.lead;
    lead.quorumElapsed++;
    if (lead.quorumElapsed >= this.config.electionTimeoutTicks) {
      lead.quorumElapsed = 0;
      // Check-quorum (as in Raft, dissertation §6.2): a leader cut off from a majority steps down,
      // so its clients learn at once instead of waiting on slots that cannot be decided.
      if ((lead.recentActive.size + 1) < majority(this.config.replicas.length)) {
        this.becomeFollowerState();
        this.resetElectionTimer();
        return;
      }
      lead.recentActive.clear();
    }
    lead.heartbeatElapsed++;
    if (lead.heartbeatElapsed < this.config.heartbeatIntervalTicks) return;
    lead.heartbeatElapsed = 0;
    this.broadcastHeartbeat();
    this.sendCatchUp();
    // Retransmission: a commander resends its P2a to the acceptors it still waits for.
    for (const commander of lead.commanders.values()) {
      for (const to of commander.waitfor) {
        if (to !== this.id) this.send({ type: 'P2a', from: this.id, to, pvalue: commander.pvalue }, false);
      }
    }
  }

  /**
   * The GC point: the minimum applied slot over every replica (a peer that never reported counts
   * as 0), sent with every heartbeat.
   */
  private broadcastHeartbeat(): void {
    let gc = this.slotOutNext - 1;
    for (const peer of this.peers) gc = Math.min(gc, this.appliedBy.get(peer) ?? 0);
    this.gcPoint = gc;
    const ballot = this.lead.ballot;
    for (const to of this.peers) {
      const hb: Heartbeat = {
        type: 'Heartbeat',
        from: this.id,
        to,
        ballot,
        slotOut: this.slotOutNext,
        readRound: this.readRound,
        gcSlot: gc,
      };
      this.send(hb, false);
    }
  }

  /** A new leader behind an acceptor's compaction point asks it for its snapshot, until caught up. */
  private sendCatchUp(): void {
    const lead = this.lead;
    const target = lead.catchUpFrom;
    if (target === null) return;
    const first = this.firstUndecided();
    if (first > target.slot) {
      lead.catchUpFrom = null;
      return;
    }
    if (this.incoming === null) this.send({ type: 'CatchUp', from: this.id, to: target.from, fromSlot: first }, false);
  }

  /** Batches waiting for the window start when slot < slot_out + WINDOW (PMMC replica propose). */
  private canStartBatch(): boolean {
    const first = this.lead.batches[0];
    return first !== undefined && first.slot < this.slotOutNext + this.config.window;
  }

  private prepareLeaderSends(): void {
    const lead = this.lead;
    while (this.canStartBatch()) {
      const batch = lead.batches.shift() as Batch;
      if (this.decisions.has(batch.slot)) continue; // cannot happen without preemption; drop it
      this.startCommander(batch.slot, { kind: 'batch', origin: lead.ballot, payloads: batch.payloads });
    }
    if (lead.hasUnassignedReads()) {
      this.readRound++;
      for (const read of lead.reads) if (read.round === 0) read.round = this.readRound;
      lead.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
    this.releaseReads();
  }

  // ---------------------------------------------------------------- read index

  private onHeartbeatAck(m: HeartbeatAck): void {
    this.observeBallot(m.ballotNum);
    if (this.currentRole !== 'leader') return;
    const lead = this.lead;
    lead.recentActive.add(m.from);
    if (Number.isSafeInteger(m.applied) && m.applied >= 0) this.appliedBy.set(m.from, m.applied);
    // The acceptor had adopted no ballot above ours when it answered.
    if (m.readRound > (lead.ackedRound.get(m.from) ?? 0)) lead.ackedRound.set(m.from, m.readRound);
    this.releaseReads();
  }

  private releaseReads(): void {
    const lead = this.lead;
    if (lead.reads.length === 0) return;
    const needed = majority(this.config.replicas.length) - 1; // we count ourselves
    lead.reads = lead.reads.filter((read) => {
      if (read.round === 0) return true;
      let acks = 0;
      for (const round of lead.ackedRound.values()) if (round >= read.round) acks++;
      if (acks < needed) return true;
      this.outReadStates.push({ ctx: read.ctx, slot: read.slot });
      return false;
    });
  }

  // ---------------------------------------------------------------- replica (PMMC Fig. 2)

  private onDecision(m: DecisionMessage): void {
    for (const d of m.decisions) this.learn(d.slot, d.command);
  }

  /** PMMC replica, on ⟨decision, s, c⟩: decisions := decisions ∪ {(s, c)}. */
  private learn(slot: number, command: Command): void {
    if (!Number.isSafeInteger(slot) || slot < 1 || slot <= this.compactedTo) return;
    if (!this.recordDecision(slot, command)) return;
    this.unstableDecisions.push({ slot, command });
    this.leadership?.commanders.delete(slot); // a leader's commander for it has nothing left to do
  }

  /**
   * Returns false for a decision already known. Two different decisions for one slot cannot both
   * come from correct replicas (PMMC invariant R2: at most one command is decided per slot), so the
   * later one comes from a peer with a bug and is dropped: we keep the one we hold, and a replica
   * never crashes on input from outside (docs/design.md §3.7).
   */
  private recordDecision(slot: number, command: Command): boolean {
    if (this.decisions.has(slot)) return false;
    this.decisions.set(slot, command);
    if (slot > this.maxDecided) this.maxDecided = slot;
    return true;
  }

  /** PMMC replica: "while ∃c' : ⟨slot_out, c'⟩ ∈ decisions do perform(c'); slot_out++". */
  private takeDecided(): Decision[] {
    const out: Decision[] = [];
    for (let c = this.decisions.command(this.slotOutNext); c !== undefined; c = this.decisions.command(this.slotOutNext)) {
      out.push({ slot: this.slotOutNext, command: c });
      this.slotOutNext++;
    }
    return out;
  }

  private firstUndecided(): number {
    let slot = this.slotOutNext;
    while (this.decisions.has(slot)) slot++;
    return slot;
  }

  /**
   * Catch-up: any replica answers with the decisions it holds from fromSlot on; for slots it has
   * already collected, it offers its snapshot (a SnapshotOffer), and sends the decisions after.
   */
  private onCatchUp(m: CatchUp): void {
    if (!Number.isSafeInteger(m.fromSlot) || m.fromSlot < 1) return;
    if (m.fromSlot <= this.compactedTo) this.offersTo.add(m.from);
    const from = Math.max(m.fromSlot, this.compactedTo + 1);
    const decisions: Decision[] = [];
    const end = Math.min(this.maxDecided, from + this.config.maxCatchUpSlots - 1);
    for (let slot = from; slot <= end; slot++) {
      const command = this.decisions.command(slot);
      if (command !== undefined) decisions.push({ slot, command });
    }
    if (decisions.length > 0) this.send({ type: 'Decision', from: this.id, to: m.from, decisions }, false);
  }

  // ---------------------------------------------------------------- snapshot transfer

  /** Offers the stored snapshot, once this Ready is durable (it may be an installed one in it). */
  private offerSnapshot(to: NodeId): void {
    const snap = this.snapshot;
    invariant(snap !== null, () => `${this.id}: slots collected to ${this.compactedTo} without a snapshot`);
    this.send({ type: 'SnapshotOffer', from: this.id, to, slot: snap.slot, chunks: snap.chunks }, true);
  }

  /**
   * An offer of a snapshot beyond slot_out starts fetching it, unless one at least as new is
   * being fetched already: a newer snapshot replaces one in transfer (the older one is useless
   * once the newer is here, and its source may drop its chunks any time).
   */
  private onSnapshotOffer(m: SnapshotOffer): void {
    if (!Number.isSafeInteger(m.slot) || !Number.isSafeInteger(m.chunks) || m.chunks < 1) return;
    if (m.slot < this.slotOutNext) return; // nothing we need
    if (this.incoming !== null && m.slot <= this.incoming.slot) return;
    this.startFetch(m.from, m.slot, m.chunks);
  }

  private startFetch(from: NodeId, slot: number, chunks: number): void {
    this.incoming = new IncomingSnapshot(from, slot, chunks, this.fetchRetryTicks, this.fetchGiveUpTicks);
    this.fetch(this.incoming, this.incoming.fill());
  }

  private fetch(incoming: IncomingSnapshot, chunks: readonly number[]): void {
    for (const chunk of chunks) this.send({ type: 'SnapshotFetch', from: this.id, to: incoming.from, slot: incoming.slot, chunk }, false);
  }

  /**
   * The sending half: a chunk of the stored snapshot, its bytes filled in by the runtime. A fetch
   * for another snapshot (a newer one replaced it here, its chunks are gone) gets an offer of the
   * stored one instead, so the receiver moves on to it.
   */
  private onSnapshotFetch(m: SnapshotFetch): void {
    const snap = this.snapshot;
    if (snap === null) return;
    if (m.slot !== snap.slot || !Number.isSafeInteger(m.chunk) || m.chunk < 0 || m.chunk >= snap.chunks) {
      this.offersTo.add(m.from);
      return;
    }
    const chunk: SnapshotChunk = { type: 'SnapshotChunk', from: this.id, to: m.from, slot: snap.slot, chunk: m.chunk, chunks: snap.chunks, data: NO_BYTES };
    this.send(chunk, true); // read from the store, where it is durable by then
  }

  /** A chunk of the snapshot being fetched: stored by the runtime; the last one installs it. */
  private onSnapshotChunk(m: SnapshotChunk): void {
    const incoming = this.incoming;
    if (incoming === null || m.from !== incoming.from || m.slot !== incoming.slot || !(m.data instanceof Uint8Array)) return;
    if (incoming.slot < this.slotOutNext) {
      this.incoming = null; // decisions brought us there first
      return;
    }
    if (!Number.isSafeInteger(m.chunks) || m.chunks < 1) return;
    if (m.chunks !== incoming.chunks) {
      // Its source stores that snapshot in other chunks now (it was wiped and made it again):
      // chunks of two cuts must not be mixed, so the transfer starts over.
      this.startFetch(m.from, m.slot, m.chunks);
      return;
    }
    if (!incoming.receive(m.chunk)) return; // a duplicate, or never asked for
    this.outSnapshotChunks.push({ slot: incoming.slot, chunk: m.chunk, data: m.data });
    if (incoming.complete) this.install(incoming);
    else this.fetch(incoming, incoming.fill());
  }

  /** Retransmits fetches after a silence; gives a transfer up when its source seems dead. */
  private tickIncoming(): void {
    const incoming = this.incoming;
    if (incoming === null) return;
    const again = incoming.slot < this.slotOutNext ? null : incoming.tick();
    if (again === null) this.incoming = null;
    else this.fetch(incoming, again);
  }

  /**
   * State transfer: every chunk of a snapshot beyond slot_out is stored (in this Ready or earlier
   * ones), so it replaces every slot up to it. slot_out moves past it at once; the Ready saves it
   * as the stored snapshot and hands it out (installSnapshot) before any later decided slot.
   */
  private install(incoming: IncomingSnapshot): void {
    const slot = incoming.slot;
    this.incoming = null;
    const snap: Snapshot = { slot, chunks: incoming.chunks };
    this.pendingInstall = snap;
    this.snapshot = snap;
    this.slotOutNext = slot + 1;
    if (slot > this.maxDecided) this.maxDecided = slot;
    this.compact(slot);
    const lead = this.leadership;
    if (lead === null) return;
    if (this.slotIn <= slot) {
      // Cannot happen (a leader's adoption saw every decided slot); stay consistent anyway.
      this.slotIn = slot + 1;
      lead.batches = lead.batches.filter((b) => b.slot > slot);
    }
    if (slot > lead.highestStarted) lead.highestStarted = slot;
  }

  // ---------------------------------------------------------------- garbage collection

  /**
   * Where the GC rules would compact to now (README.md, "Garbage collection"): the GC point once
   * it is gcStep past the compaction point, or the applied slot once more than snapshotEvery
   * applied slots are held.
   */
  private gcTarget(): number | null {
    const applied = this.slotOutNext - 1;
    const gc = Math.min(this.gcPoint, applied);
    if (gc - this.compactedTo >= this.gcStep) return gc;
    if (applied - this.compactedTo > this.snapshotEvery) return applied;
    return null;
  }

  /** Which slot the next Ready compacts to, if any: never beyond the stored snapshot. */
  private compactionTarget(): number | null {
    if (this.pendingInstall !== null) return this.pendingInstall.slot;
    const target = this.gcTarget();
    if (target === null) return null;
    const covered = Math.min(target, this.snapshotSlot);
    return covered > this.compactedTo ? covered : null;
  }

  /** The GC rules want slots that no stored snapshot covers yet: ask the runtime for one. */
  private snapshotWanted(): number | null {
    const target = this.gcTarget();
    return target !== null && target > this.snapshotSlot ? target : null;
  }

  /** Drops decisions, accepted pvalues and commanders for slots <= slot (all applied here). */
  private compact(slot: number): void {
    invariant(slot <= this.snapshotSlot, () => `${this.id}: compaction to ${slot} beyond the snapshot at ${this.snapshotSlot}`);
    this.decisions.deleteThrough(slot);
    const commanders = this.leadership?.commanders;
    if (commanders !== undefined) for (const s of commanders.keys()) if (s <= slot) commanders.delete(s);
    this.acceptor.compact(slot);
    if (slot > this.compactedTo) this.compactedTo = slot;
  }

  private flushDecisions(): void {
    if (this.outDecisions.length === 0) return;
    const decisions = this.outDecisions;
    this.outDecisions = [];
    for (const to of this.peers) this.send({ type: 'Decision', from: this.id, to, decisions }, false);
  }

  // ---------------------------------------------------------------- helpers

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const base = this.config.electionTimeoutTicks;
    this.electionTimeout = base + this.rng.int(base);
  }

  private softState(): SoftState {
    return { role: this.currentRole, leader: this.leaderId, ballot: this.currentBallot };
  }

  private softStateChanged(): boolean {
    const last = this.lastSoft;
    return last.role !== this.currentRole || last.leader !== this.leaderId || !sameBallot(last.ballot, this.currentBallot);
  }

  private takeSoftState(): SoftState | null {
    if (!this.softStateChanged()) return null;
    this.lastSoft = this.softState();
    return this.lastSoft;
  }

  describe(): string {
    return `${this.id}:${this.currentRole}/${formatBallot(this.currentBallot)}/out${this.slotOutNext}/in${this.slotIn}`;
  }
}

/** Two commands are the same value: same origin ballot, kind and payload bytes. */
export function sameCommand(a: Command, b: Command): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || !sameBallot(a.origin, b.origin) || a.payloads.length !== b.payloads.length) return false;
  for (let k = 0; k < a.payloads.length; k++) {
    const x = a.payloads[k] as Uint8Array;
    const y = b.payloads[k] as Uint8Array;
    if (x === y) continue;
    if (x.byteLength !== y.byteLength) return false;
    for (let j = 0; j < x.byteLength; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

function assertValidConfig(config: PaxosConfig): void {
  invariant(config.replicas.includes(config.id), () => `replicas must include ${config.id}`);
  invariant(new Set(config.replicas).size === config.replicas.length, 'replicas must be distinct');
  invariant(Number.isInteger(config.electionTimeoutTicks) && config.electionTimeoutTicks >= 1, 'electionTimeoutTicks >= 1');
  invariant(Number.isInteger(config.heartbeatIntervalTicks) && config.heartbeatIntervalTicks >= 1, 'heartbeatIntervalTicks >= 1');
  invariant(Number.isInteger(config.window) && config.window >= 1, 'window >= 1');
  invariant(config.maxBatchBytes >= 1, 'maxBatchBytes >= 1');
  invariant(Number.isInteger(config.maxCatchUpSlots) && config.maxCatchUpSlots >= 1, 'maxCatchUpSlots >= 1');
  const every = config.snapshotEvery;
  invariant(every === undefined || (Number.isInteger(every) && every >= 1), 'snapshotEvery >= 1');
}

export function emptyRestored(): RestoredState {
  return { ballotNum: { round: 0, leader: '' }, accepted: [], decisions: [], snapshot: null };
}
