/**
 * The Multi-Paxos core's vocabulary, named as in "Paxos Made Moderately Complex" (van Renesse and
 * Altinbuken, ACM Computing Surveys 2015, cited as "PMMC"): ballots, slots, commands, pvalues and
 * the messages P1a, P1b, P2a, P2b and Decision, plus what a practical Multi-Paxos adds (heartbeats,
 * catch-up). The core's only output is the `Ready` value, the same contract as the Raft core
 * (protocols/raft/types.ts; DESIGN.md §2).
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
 * Replica → replica: state transfer for a replica that asked for slots this one has already
 * garbage-collected. `data` is the runtime's opaque state-machine snapshot covering slots 1..slot.
 * The core never builds one: it asks the runtime to (Ready.snapshotsTo) and installs a received one
 * (Ready.installSnapshot).
 */
export interface SnapshotMessage {
  type: 'Snapshot';
  from: NodeId;
  to: NodeId;
  slot: number;
  data: Uint8Array;
}

export type PaxosMessage = P1a | P1b | P2a | P2b | DecisionMessage | Heartbeat | HeartbeatAck | CatchUp | SnapshotMessage;

/** A state-machine snapshot covering every slot <= slot (opaque bytes made by the runtime). */
export interface SnapshotData {
  slot: number;
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

/** What must be durable before `messagesAfterPersist` leave: acceptor state and decisions. */
export interface PersistState {
  /** The acceptor's new ballot_num, if it changed. */
  ballotNum: Ballot | null;
  /** Newly accepted pvalues; each replaces any earlier pvalue for its slot. */
  accepted: PValue[];
  /** Newly learned decisions. */
  decisions: Decision[];
  /**
   * Garbage collection, applied after the puts above in the same batch: when not null, delete
   * every decision and accepted pvalue for slots <= compactTo, and store a snapshot that covers
   * them: `Ready.installSnapshot` if set, else the state machine as applied before this Ready's
   * `decided` (it is at slot >= compactTo; store that slot with it).
   */
  compactTo: number | null;
}

/**
 * Everything the core wants done, handed out by `ready()`. The runtime must:
 * 1. send `messages` at once (P1a after its own promise is durable are in 3, not here);
 * 2. persist `persist` in one durable batch (with a snapshot when `persist.compactTo` is set);
 * 3. only then send `messagesAfterPersist` (P1b, P2b and the leader's P1a), and a `Snapshot`
 *    message with its latest stored snapshot to every id in `snapshotsTo`;
 * 4. install `installSnapshot` if set, then apply `decided` in order (slot-ordered, contiguous),
 *    release `readStates`, fail `readsFailed`;
 * 5. call `advance(ready)`.
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
   * A snapshot received from a peer to install before applying `decided`: restore the state
   * machine from `data`, applied slot := `slot`; persist it as this replica's snapshot
   * (`persist.compactTo` is `slot` then).
   */
  installSnapshot: SnapshotData | null;
  /**
   * Peers that asked for slots already garbage-collected here: after the persist, send each a
   * `Snapshot` message with this replica's latest stored snapshot (its slot and bytes).
   */
  snapshotsTo: NodeId[];
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
   * The slot covered by the stored state-machine snapshot (0 or absent: none). Decisions and
   * pvalues at or below it are ignored; the runtime restores its state machine from the snapshot.
   */
  snapshotSlot?: number;
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
   * Default DEFAULT_SNAPSHOT_EVERY_SLOTS.
   */
  snapshotEverySlots?: number;
}

export const DEFAULT_SNAPSHOT_EVERY_SLOTS = 4096;

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
  /** Every slot <= compactedTo is garbage-collected (covered by a snapshot). */
  compactedTo: number;
}
