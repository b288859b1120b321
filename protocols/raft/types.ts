/**
 * The Raft core's vocabulary: log entries, persisted state, messages and the Ready value through
 * which the core hands its effects to the runtime (docs/design.md §2.2; the idea is etcd-io/raft's
 * `Ready`). Names follow the Raft paper (Ongaro and Ousterhout, "In Search of an Understandable
 * Consensus Algorithm", 2014, Figure 2) and Ongaro's dissertation ("Consensus: Bridging Theory
 * and Practice", 2014).
 */

export type NodeId = string;

/** A configuration (dissertation ch. 4): voters count in majorities, learners only receive the log (membership.ts). */
export interface Membership {
  voters: NodeId[];
  learners: NodeId[];
  /**
   * Per member, where to reach it: an opaque string the runtime writes (its JSON NodeSpec) and
   * reads when the member is not in its cluster file. The core never looks inside.
   */
  addresses: Record<NodeId, string>;
}

/** Role of a replica. `precandidate` is a replica running a pre-vote round (dissertation §9.6). */
export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

/**
 * One log entry. `noop` is the entry a new leader appends to commit entries of earlier terms
 * (Raft §5.4.2, §8). `command` carries an opaque payload: the core never looks inside it, so the
 * same core replicates key-value commands, and the simulation replicates its own. `config` holds
 * a cluster configuration (dissertation §4.1; encoded by membership.ts): the runtime applies
 * nothing for it.
 */
export interface LogEntry {
  index: number;
  term: number;
  kind: 'noop' | 'command' | 'config';
  data: Uint8Array | null;
}

/** State that must be on stable storage before the replica answers RPCs (Raft Figure 2). */
export interface HardState {
  currentTerm: number;
  votedFor: NodeId | null;
  /** Not required for safety; persisted so that a restarted replica can re-apply at once. */
  commitIndex: number;
}

export interface RequestVote {
  type: 'RequestVote';
  from: NodeId;
  to: NodeId;
  /** For a pre-vote this is the term the sender would campaign in; its own term is unchanged. */
  term: number;
  lastLogIndex: number;
  lastLogTerm: number;
  preVote: boolean;
  /**
   * Set (true) only on the RequestVotes of an election started by TimeoutNow (dissertation §3.10):
   * voters grant it even inside a leader lease (§4.2.3), since the leader itself asked for it.
   * Absent otherwise.
   */
  leadershipTransfer?: boolean;
}

/**
 * Leadership transfer (dissertation §3.10): the leader, having brought `to` up to date, tells it
 * to start an election at once, without pre-vote and without waiting for its election timeout.
 */
export interface TimeoutNow {
  type: 'TimeoutNow';
  from: NodeId;
  to: NodeId;
  term: number;
}

export interface RequestVoteResponse {
  type: 'RequestVoteResponse';
  from: NodeId;
  to: NodeId;
  term: number;
  voteGranted: boolean;
  preVote: boolean;
}

export interface AppendEntries {
  type: 'AppendEntries';
  from: NodeId;
  to: NodeId;
  term: number;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: LogEntry[];
  leaderCommit: number;
  /** ReadIndex round this message confirms leadership for (dissertation §6.4); 0 if none. */
  readRound: number;
}

export interface AppendEntriesResponse {
  type: 'AppendEntriesResponse';
  from: NodeId;
  to: NodeId;
  term: number;
  success: boolean;
  /** On success: the index of the last entry the follower now holds that matches the leader. */
  matchIndex: number;
  /** On failure, fast back-off hints (paper end of §5.3, dissertation §3.5). */
  conflictIndex: number;
  conflictTerm: number;
  /** Echo of the request's readRound. */
  readRound: number;
  /** The follower's RaftConfig.incarnation: tells the leader the follower restarted. */
  incarnation: number;
}

/**
 * Raft §7, Figure 13: the leader sends its snapshot to a follower whose nextIndex it has compacted
 * away, one chunk at a time (the runtime stored it as `chunks` chunks of bounded size). Figure 13
 * counts bytes (`offset`); we count chunks, each a whole part of the state the follower can
 * restore by itself. `data` holds chunk number `chunk`; the last one is chunk `chunks - 1`. The
 * core leaves `data` empty: the runtime fills in the chunk's bytes from its stored snapshot when it
 * sends the message (Ready contract, step 1).
 */
export interface InstallSnapshot {
  type: 'InstallSnapshot';
  from: NodeId;
  to: NodeId;
  term: number;
  /** Figure 13 `leaderId` is `from`. */
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  chunk: number;
  chunks: number;
  data: Uint8Array;
  /** As in AppendEntries: the ReadIndex / lease round this message confirms leadership for. */
  readRound: number;
  /** Dissertation Figure 5.3 `lastConfig`: the configuration as of lastIncludedIndex. */
  membership: Membership;
}

/**
 * The follower's answer to one InstallSnapshot chunk. `done` false: it holds the chunks of the
 * snapshot `lastIncludedIndex` before `nextChunk` and wants that one (after a lost or reordered
 * chunk, the leader resumes from it). `done` true: it holds everything up to `lastIncludedIndex`
 * (it installed the snapshot, durably, or already had it all).
 */
export interface InstallSnapshotResponse {
  type: 'InstallSnapshotResponse';
  from: NodeId;
  to: NodeId;
  term: number;
  lastIncludedIndex: number;
  nextChunk: number;
  done: boolean;
  /** Echo of the request's readRound. */
  readRound: number;
  /** The follower's RaftConfig.incarnation, as in AppendEntriesResponse. */
  incarnation: number;
}

export type RaftMessage =
  | RequestVote
  | RequestVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | TimeoutNow
  | InstallSnapshot
  | InstallSnapshotResponse;

/**
 * A state-machine snapshot as the core sees it (Raft §7): the last index and term it covers and how
 * many chunks it is stored in. The bytes never pass through the core: the runtime writes them,
 * stores them, reads them to send and restores the state machine from them.
 */
export interface Snapshot {
  index: number;
  term: number;
  chunks: number;
  /**
   * Dissertation §5.1: the latest configuration as of `index` (the log no longer holds its
   * entry). Absent in snapshots written before membership changes existed: the bootstrap one.
   */
  membership?: Membership;
}

/** One chunk of a snapshot being received (Ready.snapshotChunks). */
export interface SnapshotChunk {
  index: number;
  chunk: number;
  data: Uint8Array;
}

/** A ReadIndex result: the read with this context may be served once appliedIndex >= index. */
export interface ReadState {
  ctx: number;
  index: number;
}

export interface SoftState {
  role: Role;
  leader: NodeId | null;
  term: number;
}

/**
 * Everything the core wants done, handed out by `ready()`. The runtime must:
 * 1. send `messages` (may go out at once: a leader's AppendEntries, §10.2.1 of the dissertation;
 *    a Ready that changes the term or the vote has none: they all wait for step 3). An
 *    InstallSnapshot among them is sent with `data` = chunk `chunk` of the stored snapshot
 *    `lastIncludedIndex` (if that snapshot is gone, replaced by a newer one, drop the message:
 *    the leader starts the newer one at the next heartbeat);
 * 2. store `snapshotChunks`, the chunks of a snapshot being received, under their snapshot's index
 *    (they need not be synced: they are durable with this Ready's batch); if `snapshot` is set,
 *    every chunk of it is stored: make it the replica's snapshot (replacing the stored one); then
 *    persist `hardState` (if set), delete log entries with index <= `compactTo` (if set) and with
 *    index >= `truncateFrom` (if set), and append `entries`, all in one durable batch (the
 *    snapshot may be in the same batch; if not, it must be durable first);
 * 3. only then send `messagesAfterPersist` (votes and append and snapshot responses, Raft §5.2
 *    "Persisted state ... updated on stable storage before responding to RPCs");
 * 4. if `snapshot` is set, restore the state machine from its chunks (applied index =
 *    snapshot.index); then apply `committed` in order (they follow the snapshot), release
 *    `readStates`. The state machine may lag: a runtime that restores in the background applies
 *    `committed` once the restore is done, and serves reads only as far as it has applied;
 * 5. call `advance(ready)`;
 * 6. if `snapshotWanted` is set and it is not taking one already, take a snapshot of its state
 *    machine at its applied index (once that is at least `snapshotWanted`), store its chunks, save
 *    it durably, then call `compact(index, chunks)`.
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  /**
   * Raft §7: a snapshot received from the leader (InstallSnapshot), to save durably (step 2)
   * and restore the state machine from (step 4). Null almost always.
   */
  snapshot: Snapshot | null;
  /** Raft §7: chunks of a snapshot being received, to store (step 2). Empty almost always. */
  snapshotChunks: SnapshotChunk[];
  /**
   * Raft §7: delete log entries with index <= compactTo on disk (idempotent: some may already be
   * gone). Set after `compact()` and after an installed snapshot.
   */
  compactTo: number | null;
  truncateFrom: number | null;
  entries: LogEntry[];
  messages: RaftMessage[];
  messagesAfterPersist: RaftMessage[];
  committed: LogEntry[];
  readStates: ReadState[];
  /** ReadIndex requests that cannot be served here (not leader, lost leadership). */
  readsFailed: number[];
  /**
   * Raft §7: the log holds `snapshotEvery` entries handed out to apply since the last snapshot:
   * take one at the applied index, at least this one (step 6). Repeated in every Ready while
   * wanted; null otherwise.
   */
  snapshotWanted: number | null;
}

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; reason: 'not-leader'; leader: NodeId | null }
  /** A leadership transfer is under way (dissertation §3.10): retry shortly, at the new leader. */
  | { ok: false; reason: 'transferring'; leader: NodeId }
  /** Flow control (uncommitted.ts): the uncommitted tail is at maxUncommittedBytes; retry later. */
  | { ok: false; reason: 'overloaded' };

export type TransferResult =
  | { ok: true; target: NodeId }
  /**
   * not-leader: only a leader transfers; already-leader: the target is this replica; unknown-target:
   * not a voter; no-target: a single-voter cluster has nobody to transfer to.
   */
  | { ok: false; reason: 'not-leader' | 'already-leader' | 'unknown-target' | 'no-target' };

/** The answer to `proposeMembership` (dissertation §4.1). */
export type MembershipResult =
  /** The configuration entry is at `index`; the change is done once it is committed. */
  | { ok: true; index: number; membership: Membership }
  | { ok: false; reason: 'not-leader'; leader: NodeId | null }
  /**
   * busy: a change is still uncommitted, the leader has not committed an entry of its term yet, or
   * leadership is being transferred; retry shortly. not-caught-up: a learner may be promoted only
   * once it has caught up (§4.2.1). invalid: the change makes no sense against the configuration.
   */
  | { ok: false; reason: 'busy' | 'not-caught-up' | 'invalid'; message: string };

export interface RaftConfig {
  id: NodeId;
  /**
   * The bootstrap configuration's voters: used until the log or snapshot holds a configuration
   * (dissertation §4.1). A replica joining an existing cluster is not among them: it waits,
   * never campaigning, until a leader sends it the log (§4.2.1, learners).
   */
  voters: NodeId[];
  /** Base election timeout; the actual one is drawn from [base, 2*base) (Raft §5.2). */
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  /** Pre-vote (dissertation §9.6). */
  preVote: boolean;
  /** Check-quorum: a leader that has not heard from a majority for an election timeout steps down. */
  checkQuorum: boolean;
  /** Upper bound on the bytes of entries in one AppendEntries (batching). */
  maxAppendBytes: number;
  /** Upper bound on the AppendEntries in flight per follower (pipelining). */
  maxInflightAppends: number;
  /**
   * Flow control (uncommitted.ts, etcd-io/raft's MaxUncommittedEntriesSize): a leader refuses
   * proposals while the entries beyond its commitIndex hold this many bytes. <= 0: no bound.
   * Defaults to 64 MiB.
   */
  maxUncommittedBytes?: number;
  /**
   * A number that grows each time this replica process starts (the runtime stores a counter
   * with the log, at least the start time in ms so that a wiped replica still comes back higher;
   * the simulation counts restarts). Followers put it in AppendEntriesResponse, so a
   * leader can tell that a follower restarted and re-learn its matchIndex: a replica whose data
   * directory was wiped comes back with an empty log, which Raft's model does not allow for.
   * Defaults to 0.
   */
  incarnation?: number;
  /**
   * Lease reads (dissertation §6.4.1), on every replica, and only with checkQuorum. Off (the
   * default), `leaseRead` is a ReadIndex read. On, a replica also stays in a leader lease for an
   * election timeout after it restarts, in case it acknowledged a heartbeat a leader counts on.
   */
  leaseReads?: boolean;
  /**
   * Lease reads (dissertation §6.4.1): the bound, in ticks, on how far the replicas' clocks may
   * disagree over one election timeout, tick rounding included. A leader serves lease reads only
   * within electionTimeoutTicks - leaseDriftTicks of a heartbeat round a majority acknowledged,
   * counted from when that round was sent. Must be >= 1; defaults to 2, which covers the rounding of
   * ticks at both ends and a 5% rate difference with electionTimeoutTicks = 10 (see README).
   */
  leaseDriftTicks?: number;
  /**
   * Raft §7 log compaction: the core asks for a snapshot (Ready.snapshotWanted) once this many
   * entries handed out to apply follow the last snapshot. The same setting, under the same name,
   * as Multi-Paxos's (its GC rules); PBFT's checkpoint interval K is the paper's. Defaults to
   * DEFAULT_SNAPSHOT_EVERY; 0 never asks (a runtime or test that compacts on its own schedule).
   */
  snapshotEvery?: number;
}

export const DEFAULT_SNAPSHOT_EVERY = 50_000;

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId | null;
  votedFor: NodeId | null;
  commitIndex: number;
  lastLogIndex: number;
  lastLogTerm: number;
  /** Raft §7: the last index covered by this replica's snapshot (0: none); the log starts after it. */
  snapshotIndex: number;
  /** Raft §7: how many chunks that snapshot is stored in (0: none). */
  snapshotChunks: number;
  /** Leader only: per follower replication progress. */
  progress: Record<NodeId, { matchIndex: number; nextIndex: number; inflight: number }> | null;
  /** Leader only: the replica leadership is being transferred to (dissertation §3.10), or null. */
  transferTarget: NodeId | null;
  /** Dissertation §4.1: the latest configuration in the log, its index, and whether it is committed. */
  membership: Membership;
  membershipIndex: number;
  membershipCommitted: boolean;
}
