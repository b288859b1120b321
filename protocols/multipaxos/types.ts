/**
 * The Multi-Paxos core's vocabulary, named as in "Paxos Made Moderately Complex" (van Renesse and
 * Altinbuken, ACM Computing Surveys 2015, cited as "PMMC"): ballots, slots, commands, pvalues and
 * the messages P1a, P1b, P2a, P2b and Decision, plus what a practical Multi-Paxos adds (heartbeats,
 * catch-up). The core's only output is the `Ready` value, the same contract as the Raft core
 * (protocols/raft/types.ts; docs/design.md §2.2).
 */

export type NodeId = string;

/** Role of a replica: a `leader` is an active PMMC leader (adopted); a `candidate` runs a scout. */
export type Role = 'follower' | 'candidate' | 'leader';

/** PMMC §3: a ballot is a (round, leader) pair, ordered lexicographically. */
export interface Ballot {
  round: number;
  leader: NodeId;
}

/**
 * A slot's value. PMMC's command is one client operation; here a slot holds a batch of opaque
 * payloads (batching), or nothing: the no-op a new leader proposes for a gap. `origin` is the
 * ballot of the leader that first proposed it, so (slot, origin) identifies a value: a proposer
 * knows its command was chosen when the decision at its slot has its ballot as origin.
 */
export interface Command {
  kind: 'noop' | 'batch';
  origin: Ballot;
  /** Empty for a no-op. */
  payloads: Uint8Array[];
}

/** PMMC §3: a pvalue ⟨b, s, c⟩, "command c proposed for slot s in ballot b". */
export interface PValue {
  ballot: Ballot;
  slot: number;
  command: Command;
}

/** A decided slot (PMMC `decisions`). */
export interface Decision {
  slot: number;
  command: Command;
}

/** Scout → acceptor (PMMC phase 1a). `fromSlot`: only pvalues for slots >= it are wanted. */
export interface P1a {
  type: 'P1a';
  from: NodeId;
  to: NodeId;
  ballot: Ballot;
  fromSlot: number;
}

/** Acceptor → scout (PMMC phase 1b): the acceptor's ballot_num and its accepted pvalues. */
export interface P1b {
  type: 'P1b';
  from: NodeId;
  to: NodeId;
  /** The ballot of the P1a this answers. */
  request: Ballot;
  ballotNum: Ballot;
  accepted: PValue[];
  /**
   * Garbage collection: every slot <= compactedTo is decided, applied by this replica and its
   * pvalue dropped. The new leader must not propose anything there (README.md, Garbage collection).
   */
  compactedTo: number;
}

/** Commander → acceptor (PMMC phase 2a). */
export interface P2a {
  type: 'P2a';
  from: NodeId;
  to: NodeId;
  pvalue: PValue;
}

/** Acceptor → commander (PMMC phase 2b): ballot_num after handling the P2a, and the slot. */
export interface P2b {
  type: 'P2b';
  from: NodeId;
  to: NodeId;
  ballotNum: Ballot;
  slot: number;
}

/** Leader → replicas (PMMC `decision`), several slots at once; also the answer to CatchUp. */
export interface DecisionMessage {
  type: 'Decision';
  from: NodeId;
  to: NodeId;
  decisions: Decision[];
}

/**
 * Leader → acceptors, every heartbeat interval: "ballot b is alive" (failure detection), how far
 * the leader has applied (so a replica that missed decisions asks for them) and a read round.
 */
export interface Heartbeat {
  type: 'Heartbeat';
  from: NodeId;
  to: NodeId;
  ballot: Ballot;
  slotOut: number;
  readRound: number;
  /** The GC point: every replica has applied every slot <= gcSlot (as far as the leader knows). */
  gcSlot: number;
}

/**
 * Acceptor → leader: its ballot_num (higher than the leader's = preempted), the echoed round, and
 * how far this replica has applied (for the leader's GC point).
 */
export interface HeartbeatAck {
  type: 'HeartbeatAck';
  from: NodeId;
  to: NodeId;
  ballotNum: Ballot;
  readRound: number;
  applied: number;
}

/** Replica → leader: "send me the decisions from fromSlot on" (catch-up). */
export interface CatchUp {
  type: 'CatchUp';
  from: NodeId;
  to: NodeId;
  fromSlot: number;
}

/**
 * State transfer, for a replica that asked for slots this one has already garbage-collected (or a
 * leader behind an acceptor's compaction point): "my stored snapshot covers every slot <= slot; it
 * is `chunks` chunks long; fetch them from me" (README.md, "Snapshot transfer").
 */
export interface SnapshotOffer {
  type: 'SnapshotOffer';
  from: NodeId;
  to: NodeId;
  slot: number;
  chunks: number;
}

/** The receiver of an offer asks for one chunk of the snapshot at `slot`, a few at a time. */
export interface SnapshotFetch {
  type: 'SnapshotFetch';
  from: NodeId;
  to: NodeId;
  slot: number;
  chunk: number;
}

/**
 * The answer to a SnapshotFetch: chunk `chunk` (of `chunks`) of the snapshot at `slot`. The core
 * leaves `data` empty; the runtime fills in the chunk's bytes from its store when it sends it
 * (Ready contract, step 3), and drops the message if the chunk is gone (a newer snapshot replaced
 * it: the receiver asks again and is offered the newer one).
 */
export interface SnapshotChunk {
  type: 'SnapshotChunk';
  from: NodeId;
  to: NodeId;
  slot: number;
  chunk: number;
  chunks: number;
  data: Uint8Array;
}

export type PaxosMessage =
  | P1a
  | P1b
  | P2a
  | P2b
  | DecisionMessage
  | Heartbeat
  | HeartbeatAck
  | CatchUp
  | SnapshotOffer
  | SnapshotFetch
  | SnapshotChunk;

/**
 * A state-machine snapshot as the core sees it: it covers every slot <= slot and the runtime
 * stores it as `chunks` chunks (nodes/snapshots/snapshot-chunks.ts). The bytes never stay in the
 * core: the runtime writes, stores, sends and restores them; chunks received from a peer only
 * pass through on their way to the store (Ready.persist.snapshotChunks).
 */
export interface Snapshot {
  slot: number;
  chunks: number;
}

/** One chunk of a snapshot being received from a peer, to store under its snapshot's slot. */
export interface ReceivedChunk {
  slot: number;
  chunk: number;
  data: Uint8Array;
}

/** A read-index result: the read with this context may be served once slotOut > slot. */
export interface ReadState {
  ctx: number;
  slot: number;
}

export interface SoftState {
  role: Role;
  leader: NodeId | null;
  /** The highest ballot this replica knows of (its own acceptor's ballot_num or higher). */
  ballot: Ballot;
}

/** What must be durable before `messagesAfterPersist` leave: acceptor state, decisions, snapshots. */
export interface PersistState {
  /** The acceptor's new ballot_num, if it changed. */
  ballotNum: Ballot | null;
  /** Newly accepted pvalues; each replaces any earlier pvalue for its slot. */
  accepted: PValue[];
  /** Newly learned decisions. */
  decisions: Decision[];
  /**
   * Chunks of a snapshot being received from a peer: store each under its snapshot's slot. They
   * need no fsync of their own: `snapshot` is written after them, durably.
   */
  snapshotChunks: ReceivedChunk[];
  /**
   * A snapshot received from a peer, every chunk of it stored (in this batch or earlier ones):
   * make it the stored snapshot, durably (its chunks with it), replacing the one stored before.
   */
  snapshot: Snapshot | null;
  /**
   * Garbage collection, after the puts above in the same batch: when not null, delete every
   * decision and accepted pvalue for slots <= compactTo. The stored snapshot covers them: the
   * core compacts only up to a snapshot the runtime saved (`snapshotSaved`) or `snapshot` above.
   */
  compactTo: number | null;
}

/**
 * Everything the core wants done, handed out by `ready()`. The runtime must:
 * 1. send `messages` at once (P1a after its own promise is durable are in 3, not here);
 * 2. persist `persist` in one durable batch (chunks, then the installed snapshot, then the
 *    acceptor state and decisions, then the deletions of `compactTo`);
 * 3. only then send `messagesAfterPersist` (P1b, P2b, the leader's P1a, SnapshotOffer, and
 *    SnapshotChunk with `data` filled in from its store: drop one whose chunk is gone);
 * 4. if `installSnapshot` is set, restore the state machine from its stored chunks (applied slot
 *    := its slot), then apply `decided` in order (slot-ordered, contiguous, after it), release
 *    `readStates`, fail `readsFailed`. A runtime that restores in the background applies `decided`
 *    once the restore is done, and serves reads only as far as it has applied;
 * 5. call `advance(ready)`;
 * 6. if `snapshotWanted` is set and it is not taking one already, take a snapshot of its state
 *    machine at its applied slot (>= snapshotWanted), store its chunks, save it durably, then call
 *    `snapshotSaved(slot, chunks)`: compaction waits for that.
 */
export interface Ready {
  softState: SoftState | null;
  persist: PersistState;
  messages: PaxosMessage[];
  messagesAfterPersist: PaxosMessage[];
  decided: Decision[];
  readStates: ReadState[];
  readsFailed: number[];
  /**
   * A snapshot received from a peer (the same as `persist.snapshot`): restore the state machine
   * from its chunks before applying `decided` (step 4).
   */
  installSnapshot: Snapshot | null;
  /**
   * The GC rules want slots up to this one collected, and no stored snapshot covers them: take
   * one (step 6). Repeated in every Ready while wanted; null otherwise.
   */
  snapshotWanted: number | null;
}

export type ProposeResult =
  /** `position`: the command's place in the slot's batch (its result is the position-th of the slot's). */
  | { ok: true; slot: number; ballot: Ballot; position: number }
  | { ok: false; reason: 'not-leader'; leader: NodeId | null };

/** What a restarted replica finds on disk. A fresh replica passes `emptyRestored()`. */
export interface RestoredState {
  ballotNum: Ballot;
  accepted: PValue[];
  decisions: Decision[];
  /**
   * The stored state-machine snapshot (absent or null: none). Decisions and pvalues at or below
   * its slot are ignored; the runtime restores its state machine from it; the core offers it to
   * replicas that need collected slots.
   */
  snapshot?: Snapshot | null;
}

export interface PaxosConfig {
  id: NodeId;
  /** Every replica (each is replica, leader and acceptor), this one included. */
  replicas: NodeId[];
  /** Base leader-failure timeout; the actual one is drawn from [base, 2*base) (backoff). */
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  /** PMMC WINDOW: at most this many slots proposed beyond slot_out (pipelining). */
  window: number;
  /** Upper bound on the payload bytes in one slot's batch (batching). */
  maxBatchBytes: number;
  /** Upper bound on the decisions in one catch-up answer. */
  maxCatchUpSlots: number;
  /**
   * Local compaction: when more than this many applied slots are held above the last compaction
   * point, compact up to the applied slot even if some replica has not applied them (a long-dead
   * replica then catches up by snapshot). The GC point compacts earlier, every quarter of it.
   * Either rule first asks the runtime for a snapshot covering the slots (Ready.snapshotWanted).
   * Default DEFAULT_SNAPSHOT_EVERY.
   */
  snapshotEvery?: number;
}

export const DEFAULT_SNAPSHOT_EVERY = 4096;

export interface PaxosStatus {
  id: NodeId;
  role: Role;
  ballot: Ballot;
  leader: NodeId | null;
  /** PMMC slot_in: the next slot this leader proposes in. */
  slotIn: number;
  /** PMMC slot_out: the next slot to apply; slotOut - 1 slots are applied (or handed to apply). */
  slotOut: number;
  decided: number;
  inflight: number;
  /** Every slot <= compactedTo is garbage-collected (covered by the stored snapshot). */
  compactedTo: number;
  /** The slot of the stored snapshot (0: none); never below compactedTo. */
  snapshotSlot: number;
  /** A snapshot being fetched from a peer, chunk by chunk. */
  fetching: { from: NodeId; slot: number; chunks: number; received: number } | null;
}
