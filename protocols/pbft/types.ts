/**
 * The PBFT core's public types (Castro and Liskov, OSDI '99 "Practical Byzantine Fault
 * Tolerance", cited as "OSDI §x"; TOCS 2002 "Practical Byzantine Fault Tolerance and Proactive
 * Recovery", cited as "TOCS §x"). Names follow the papers: view v, sequence number n, digest d,
 * low/high watermarks h/H, the P and Q sets of a ViewChange, the O set of a NewView.
 *
 * Messages are plain objects that survive a msgpackr round trip: Uint8Array fields stay
 * Uint8Array, no Maps, no class instances, no undefined. Every peer message names its claimed
 * sender in `replica` (the paper's i) and carries its authentication in `auth`: a MAC for the one
 * receiver, or the sender's signature. The receiver authenticates against `replica`, never
 * against the transport, so a forged `replica` fails verification (OSDI §4, TOCS §3.1).
 */
import type { KvOperation, KvResult } from '../kv/commands.js';

export interface PbftConfig {
  /** Replicas 0..n-1; f = floor((n-1)/3); primary(v) = v mod n. */
  n: number;
  self: number;
  /** K: a checkpoint every K sequence numbers (OSDI §4.3). Default 128. */
  checkpointInterval: number;
  /** L = H - h (OSDI §4.3). Default 2*K. Must be a multiple of K. */
  watermarkWindow: number;
  /** Primary batching (TOCS §5.1.4). */
  maxBatchRequests: number;
  maxBatchBytes: number;
  /** The view-change timer T; doubles per consecutive view change (OSDI §4.4, TOCS §4.5.2). */
  requestTimeoutTicks: number;
  /** 'mac': MACs on normal-case messages (TOCS §3.1); 'sign-all': signatures on every message. */
  authentication: 'mac' | 'sign-all';
  /**
   * The primary starts a new batch only while fewer than this many of its batches are assigned
   * and not yet executed here, unless a full batch is waiting (TOCS §5.1.4 and the BFT library's
   * sliding window): under load, requests pile up into larger batches instead of many small
   * ones, so each request costs fewer protocol messages. Default 2; the watermarks still bound it.
   */
  maxBatchesInFlight?: number;
  /** Requests this replica holds for ordering before submit() answers 'overloaded'. Default 10_000. */
  maxPendingRequests?: number;
  /** Resend interval for unfinished protocol work. Default max(1, floor(requestTimeoutTicks / 4)). */
  retransmitTicks?: number;
  /** Bound on one state-transfer chunk and one batch-transfer reply. Default 256 KiB. */
  maxTransferBytes?: number;
  /**
   * Bound on the batches one ViewChange or NewView carries (their wire size, canonical.ts
   * `batchWireBytesMax`); the rest are fetched with FetchBatches. Default 16 MiB, so a view
   * change over a full window of max-size batches fits the runtime's frames.
   */
  maxCarriedBatchBytes?: number;
}

/** A client request: PBFT's <REQUEST, o, t, c> with t = seq (also the KV session seq). */
export interface ClientRequest {
  clientId: string;
  seq: number;
  operation: KvOperation;
  /** Replica that gathers replies for this request (the HTTP gateway), or -1 for a library client. */
  origin: number;
}

/** A batch of requests: the "m" a PrePrepare orders at one sequence number (TOCS §5.1.4). */
export type Batch = ClientRequest[];

// ------------------------------------------------------------------------------------ messages

/** A client request relayed between replicas (OSDI §4.1: backups relay to the primary). */
export interface RequestMessage {
  type: 'Request';
  request: ClientRequest;
  replica: number;
  auth: Uint8Array;
}

/** <<PRE-PREPARE, v, n, d>_αp, m> (OSDI §4.2); auth covers (v, n, d, replica), not the batch. */
export interface PrePrepare {
  type: 'PrePrepare';
  view: number;
  sequence: number;
  digest: string;
  batch: Batch;
  replica: number;
  auth: Uint8Array;
}

/** <PREPARE, v, n, d, i>_αi (OSDI §4.2). */
export interface Prepare {
  type: 'Prepare';
  view: number;
  sequence: number;
  digest: string;
  replica: number;
  auth: Uint8Array;
}

/** <COMMIT, v, n, d, i>_αi (OSDI §4.2). */
export interface Commit {
  type: 'Commit';
  view: number;
  sequence: number;
  digest: string;
  replica: number;
  auth: Uint8Array;
}

/** One <t, c, r> of a Reply: the client, its timestamp, and this replica's result. */
export interface ReplyEntry {
  clientId: string;
  seq: number;
  result: KvResult;
}

/**
 * <REPLY, v, t, c, i, r>_μic (OSDI §4.1), sent to the request's origin replica. One Reply carries
 * the results of every request of one executed batch that has this origin (README Deviations:
 * batched replies), authenticated once; the origin applies the f+1 rule per request.
 */
export interface Reply {
  type: 'Reply';
  view: number;
  replies: ReplyEntry[];
  replica: number;
  auth: Uint8Array;
}

/** A read-only request multicast by its origin (OSDI §5.1.3 / TOCS §5.1.3). */
export interface ReadRequest {
  type: 'ReadRequest';
  request: ClientRequest;
  replica: number;
  auth: Uint8Array;
}

/** The answer to a read-only request, from the replica's current executed state. */
export interface ReadReply {
  type: 'ReadReply';
  clientId: string;
  seq: number;
  result: KvResult;
  replica: number;
  auth: Uint8Array;
}

/** <CHECKPOINT, n, d, i>_σi (OSDI §4.3): always signed, it is forwarded as proof. */
export interface Checkpoint {
  type: 'Checkpoint';
  sequence: number;
  digest: string;
  replica: number;
  auth: Uint8Array;
}

/** One entry of the P set: n prepared with digest d in view v, no later prepare (TOCS §4.5). */
export interface PreparedEntry {
  sequence: number;
  digest: string;
  view: number;
}

/** One entry of the Q set: n pre-prepared with digest d, latest view for d (TOCS §4.5). */
export type PrePreparedEntry = PreparedEntry;

/** A batch carried as evidence; it verifies itself against its digest. */
export interface BatchEntry {
  sequence: number;
  digest: string;
  batch: Batch;
}

/**
 * <VIEW-CHANGE, v+1, h, C, P, Q, i>_σi (TOCS §4.5): `view` is the view moved to, h the last stable
 * checkpoint with its 2f+1 signed Checkpoints (C), P and Q the prepared / pre-prepared claims.
 * The signature covers everything but `batches` (the batches of the P entries, which verify
 * themselves against their digests: TOCS lets replicas fetch them; we piggyback them).
 */
export interface ViewChange {
  type: 'ViewChange';
  view: number;
  h: number;
  checkpointDigest: string;
  checkpointProof: Checkpoint[];
  prepared: PreparedEntry[];
  prePrepared: PrePreparedEntry[];
  batches: BatchEntry[];
  replica: number;
  auth: Uint8Array;
}

/**
 * <NEW-VIEW, v+1, V, X>_σp (TOCS §4.5): V = the signed ViewChanges the primary decided from
 * (their `batches` stripped), X = the decision: checkpoint h and, per n in h+1..max, the chosen
 * digest (the null request is the empty batch). Backups recompute X from V (TOCS §4.5.3).
 */
export interface NewView {
  type: 'NewView';
  view: number;
  viewChanges: ViewChange[];
  h: number;
  chosen: Array<{ sequence: number; digest: string }>;
  batches: BatchEntry[];
  replica: number;
  auth: Uint8Array;
}

/**
 * A lagging replica asks for committed batches from `from` on (state transfer, TOCS §6.2); `h` is
 * its last stable checkpoint, so a replica with a newer one sends that checkpoint's proof along.
 */
export interface Fetch {
  type: 'Fetch';
  from: number;
  h: number;
  replica: number;
  auth: Uint8Array;
}

/** Committed batches (and, when `from` was garbage-collected, the stable checkpoint proof). */
export interface FetchReply {
  type: 'FetchReply';
  entries: BatchEntry[];
  stable: { sequence: number; digest: string; proof: Checkpoint[] } | null;
  replica: number;
  auth: Uint8Array;
}

/**
 * Ask for batches by (n, d) during a view change: the new primary for the P entries of the
 * ViewChanges it lacks (A3), a backup for the chosen batches a NewView did not carry (TOCS §4.5:
 * replicas fetch the requests they are missing).
 */
export interface FetchBatches {
  type: 'FetchBatches';
  wanted: Array<{ sequence: number; digest: string }>;
  replica: number;
  auth: Uint8Array;
}

/** Batches answering FetchBatches; each verifies itself against its digest. */
export interface Batches {
  type: 'Batches';
  entries: BatchEntry[];
  replica: number;
  auth: Uint8Array;
}

/** A node of the partition tree (partition-tree.ts): level 0 are the leaf partitions. */
export interface TreeNodeRef {
  level: number;
  index: number;
}

/** TOCS §6.2: ask for the children's digests of these tree nodes at checkpoint (sequence, digest). */
export interface FetchMeta {
  type: 'FetchMeta';
  sequence: number;
  digest: string;
  nodes: TreeNodeRef[];
  replica: number;
  auth: Uint8Array;
}

/**
 * The meta-data of tree nodes at checkpoint (sequence, digest): each node's children's digests,
 * which the asker checks against the node's certified digest. A replica whose stable checkpoint
 * moved past the asked one answers with its own root and proof instead.
 */
export interface Meta {
  type: 'Meta';
  sequence: number;
  digest: string;
  proof: Checkpoint[];
  nodes: Array<TreeNodeRef & { children: string[] }>;
  replica: number;
  auth: Uint8Array;
}

/** TOCS §6.2: ask for leaf partitions of checkpoint (sequence, digest), each from an item offset. */
export interface FetchPartitions {
  type: 'FetchPartitions';
  sequence: number;
  digest: string;
  parts: Array<{ partition: number; offset: number }>;
  replica: number;
  auth: Uint8Array;
}

/** Items `offset` .. of a leaf partition (partitions.ts toWireItems), canonically encoded. */
export interface PartitionChunk {
  type: 'PartitionChunk';
  sequence: number;
  digest: string;
  partition: number;
  offset: number;
  total: number;
  bytes: Uint8Array;
  replica: number;
  auth: Uint8Array;
}

export type PbftMessage =
  | RequestMessage
  | PrePrepare
  | Prepare
  | Commit
  | Reply
  | ReadRequest
  | ReadReply
  | Checkpoint
  | ViewChange
  | NewView
  | Fetch
  | FetchReply
  | FetchMeta
  | Meta
  | FetchPartitions
  | PartitionChunk
  | FetchBatches
  | Batches;

export type PbftMessageType = PbftMessage['type'];

// ------------------------------------------------------------------------------------ outputs

export type PersistRecord = { key: string; value: unknown } | { key: string; delete: true };

export interface ExecutedRequest {
  request: ClientRequest;
  result: KvResult;
  sequence: number;
}

/** A batch this replica executed at `sequence` (OSDI §4.2), the null request's empty one too. */
export interface ExecutedBatch {
  sequence: number;
  digest: string;
}

/**
 * A checkpoint of this replica's own state (OSDI §4.3): taken after executing `sequence` (also
 * when a restart re-executes up to it), or installed by state transfer (TOCS §6.2).
 */
export interface OwnCheckpoint {
  sequence: number;
  digest: string;
}

export interface ReceivedReply {
  from: number;
  clientId: string;
  seq: number;
  result: KvResult;
  view: number;
}

export interface ReceivedReadReply {
  from: number;
  clientId: string;
  seq: number;
  result: KvResult;
}

export interface PbftReady {
  /** Write in ONE durable batch BEFORE sending `messages`; keys are the core's business. */
  persist: PersistRecord[];
  messages: Array<{ to: number; message: PbftMessage }>;
  /** This replica executed it (ordered path): its own reply for the request. */
  executed: ExecutedRequest[];
  /** Verified Reply messages from other replicas for requests whose origin is this replica. */
  replies: ReceivedReply[];
  /**
   * Read-only answers for requests whose origin is this replica: the verified ReadReply messages
   * of the others AND this replica's own answer (from === self). For origin -1, only its own.
   */
  readReplies: ReceivedReadReply[];
  /**
   * What this replica executed and checkpointed since the last Ready, in order: for checkers
   * (the simulation compares them across replicas); a runtime may ignore them.
   */
  executedBatches: ExecutedBatch[];
  checkpoints: OwnCheckpoint[];
}

export interface PbftStatus {
  id: number;
  n: number;
  f: number;
  view: number;
  primary: number;
  isPrimary: boolean;
  viewChanging: boolean;
  lowWatermark: number;
  highWatermark: number;
  lastStableCheckpoint: number;
  lastExecuted: number;
  /** Highest sequence number this replica (as primary) assigned; 0 as a backup before any. */
  lastAssigned: number;
  pendingRequests: number;
  inFlight: number;
  consecutiveViewChanges: number;
  viewChangeTimeoutTicks: number;
  stateTransfer: boolean;
  /** Messages dropped because their MAC or signature failed. */
  rejectedAuth: number;
  /** Messages dropped because they broke a protocol rule (wrong view, outside watermarks, bad digest, ...). */
  rejectedInvalid: number;
  executedRequests: number;
  /** View changes this replica started, and checkpoint states it installed by state transfer. */
  viewChanges: number;
  stateTransfers?: number;
}

/** Where one sequence number stands at this replica (OSDI §4.2), for dashboards. */
export interface SlotPhase {
  sequence: number;
  /** The view of the certificate being collected (or of the executed batch's pre-prepare). */
  view: number;
  /** pre-prepared: accepted a PrePrepare; prepared(m, v, n, i); committed: committed-local (or executed). */
  phase: 'pre-prepared' | 'prepared' | 'committed';
  executed: boolean;
  /** The batch digest (the executed one once executed). */
  digest: string;
}

/** The surface PbftReplica and ByzantineReplica share (contract: the runtime drives either). */
export interface PbftReplicaApi {
  tick(): void;
  step(from: number, msg: PbftMessage): void;
  submit(request: ClientRequest): 'accepted' | 'overloaded';
  readOnly(request: ClientRequest): void;
  hasReady(): boolean;
  ready(): PbftReady;
  advance(ready: PbftReady): void;
  status(): PbftStatus;
}

export function primaryOf(view: number, n: number): number {
  return view % n;
}
