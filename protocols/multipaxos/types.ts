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
}

/** Acceptor → leader: its ballot_num (higher than the leader's = preempted) and the echoed round. */
export interface HeartbeatAck {
  type: 'HeartbeatAck';
  from: NodeId;
  to: NodeId;
  ballotNum: Ballot;
  readRound: number;
}

/** Replica → leader: "send me the decisions from fromSlot on" (catch-up). */
export interface CatchUp {
  type: 'CatchUp';
  from: NodeId;
  to: NodeId;
  fromSlot: number;
}

export type PaxosMessage = P1a | P1b | P2a | P2b | DecisionMessage | Heartbeat | HeartbeatAck | CatchUp;

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
}

/**
 * Everything the core wants done, handed out by `ready()`. The runtime must:
 * 1. send `messages` at once (P1a after its own promise is durable are in 3, not here);
 * 2. persist `persist` in one durable batch;
 * 3. only then send `messagesAfterPersist` (P1b, P2b, HeartbeatAck and the leader's P1a);
 * 4. apply `decided` in order (slot-ordered, contiguous), release `readStates`, fail `readsFailed`;
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
}

export type ProposeResult =
  | { ok: true; slot: number; ballot: Ballot }
  | { ok: false; reason: 'not-leader'; leader: NodeId | null };

/** What a restarted replica finds on disk. A fresh replica passes `emptyRestored()`. */
export interface RestoredState {
  ballotNum: Ballot;
  accepted: PValue[];
  decisions: Decision[];
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
}

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
}
