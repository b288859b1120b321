/**
 * The debug API's state protocol: what `GET /admin/debug/state` returns on a replica started with
 * `--debug-api` (nodes/debug/debug-routes.ts), and what the dashboard (harness/dashboard/) draws.
 * Each runtime produces one variant; the fields shared by all of them let the dashboard show a
 * card, a timeline and a leader without knowing the protocol. Plain JSON: no Maps, no bigints.
 */

/** How many of the newest log entries (Raft), slots (Multi-Paxos) or sequence numbers (PBFT) a state carries. */
export const DEBUG_LOG_TAIL = 20;

export interface DebugStateCommon {
  id: string;
  pid: number;
  /** The runtime's own role name: Raft and Multi-Paxos follower/candidate/leader; PBFT primary/backup/view-changing. */
  role: string;
  /** The leader (Raft, Multi-Paxos) or primary (PBFT) this replica believes in, or null. */
  leader: string | null;
  /** One ordered number per epoch, for the timeline: Raft's term, the ballot's round, PBFT's view. */
  epoch: number;
  /** The epoch as people read it: "term 4", "ballot 3.n2", "view 1". */
  epochLabel: string;
  /** Raft's commitIndex; the highest slot (sequence number) below which everything is decided (committed). */
  commitIndex: number;
  /** The highest index, slot or sequence number applied to (executed by) the state machine. */
  appliedIndex: number;
  /** When this state was taken, in ms since the Unix epoch (the replica's clock). */
  timeMs: number;
}

export interface RaftLogTailEntry {
  index: number;
  term: number;
  /** 'command', 'noop' (a new leader's entry, Raft §8), or whatever else the log holds. */
  kind: string;
}

export interface RaftDebugState extends DebugStateCommon {
  protocol: 'raft';
  term: number;
  votedFor: string | null;
  lastLogIndex: number;
  /** Raft §7: entries up to here are compacted into a snapshot. */
  snapshotIndex: number;
  /** The newest entries (at most DEBUG_LOG_TAIL), oldest first. */
  log: RaftLogTailEntry[];
}

export interface DebugBallot {
  round: number;
  leader: string;
}

export interface PaxosSlotEntry {
  slot: number;
  /** The decided command's origin ballot (who proposed it), else the ballot of the accepted pvalue. */
  ballot: DebugBallot;
  status: 'accepted' | 'decided';
  kind: 'noop' | 'batch';
  /** Client commands batched into the slot. */
  commands: number;
}

export interface PaxosDebugState extends DebugStateCommon {
  protocol: 'multipaxos';
  ballot: DebugBallot;
  /** PMMC slot_in and slot_out. */
  slotIn: number;
  slotOut: number;
  /** Every slot at or below it is garbage-collected. */
  compactedTo: number;
  /** The newest slots (at most DEBUG_LOG_TAIL), oldest first. */
  log: PaxosSlotEntry[];
}

/** Castro and Liskov §4.2: the phase a sequence number has reached at this replica. */
export type PbftPhase = 'pre-prepared' | 'prepared' | 'committed';

export interface PbftSeqEntry {
  seq: number;
  view: number;
  phase: PbftPhase;
  /** Executed (applied) here; implies committed. */
  executed: boolean;
  /** A short prefix of the request digest, for telling batches apart. */
  digest?: string;
}

/**
 * What the PBFT runtime produces. `leader` is the primary, `epoch` the view, `commitIndex` the
 * highest sequence number such that it and all before it are committed-local, `appliedIndex` the
 * last executed one.
 */
export interface PbftDebugState extends DebugStateCommon {
  protocol: 'pbft';
  view: number;
  primary: string;
  /** The sequence number of the last stable checkpoint (§4.3); the low watermark h. */
  stableCheckpoint: number;
  /** The high watermark H = h + k. */
  highWatermark: number;
  /** True between sending ViewChange and entering the new view (§4.4). */
  viewChanging: boolean;
  /** The newest sequence numbers (at most DEBUG_LOG_TAIL), oldest first. */
  log: PbftSeqEntry[];
}

export type ReplicaDebugState = RaftDebugState | PaxosDebugState | PbftDebugState;
