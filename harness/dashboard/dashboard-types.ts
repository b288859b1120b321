/**
 * What the dashboard server pushes to browsers (server-sent events on GET /api/stream) and answers
 * on GET /api/state. Replica state itself is the debug API's state protocol
 * (nodes/debug/debug-state.ts), passed through unchanged.
 */
import type { DebugStateCommon, ReplicaDebugState } from '../../nodes/debug/debug-state.js';
import type { ReplicaState } from '../cluster/cluster.js';
import type { LinkMode } from '../proxy/link-proxy.js';

/** A replica without the debug API (or whose runtime has no debug state): what /status tells. */
export interface StatusOnlyState extends DebugStateCommon {
  protocol: 'status-only';
  log: never[];
}

export type CardState = ReplicaDebugState | StatusOnlyState;

export interface ReplicaView {
  id: string;
  httpUrl: string;
  /** The process as the harness controls it: up, paused, killed, stopped, starting. */
  process: ReplicaState;
  /** The last state read from the replica (kept, and marked stale, while it is down or paused). */
  state: CardState | null;
  stale: boolean;
  error: string | null;
  /** The replica's event-loop delay from its /metrics (event-loop-lag.ts); absent until read, or where there is none. */
  lag?: LagView;
}

/** One read of a replica's event-loop delay gauges (the last second's window, in ms). */
export interface LagPoint {
  timeMs: number;
  p99Ms: number;
  maxMs: number;
}

/** A delay over STALL_MS (event-loop-lag.ts): when it was seen, and how long it was. */
export interface LagStall {
  timeMs: number;
  ms: number;
  /** True when only a lower bound is known (a histogram bucket's bound; its window's max was missed). */
  atLeast: boolean;
}

export interface LagView {
  /** The recent reads, oldest first, about one a second. */
  points: LagPoint[];
  /** The last stall seen since the process started, or null. */
  lastStall: LagStall | null;
}

/** One undirected link a–b (a < b) with the fault proxy's mode in each direction. */
export interface LinkView {
  a: string;
  b: string;
  ab: LinkMode;
  ba: LinkMode;
}

/** A sampled message, for drawing it along its link. */
export interface FlowMessage {
  from: string;
  to: string;
  type: string;
  timeMs: number;
}

export interface LoadPoint {
  timeMs: number;
  okPerSec: number;
  errorsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadView {
  running: boolean;
  points: LoadPoint[];
}

export type TimelineKind = 'election' | 'epoch' | 'leader' | 'fault' | 'heal' | 'process' | 'stall' | 'info';

export interface TimelineEvent {
  seq: number;
  timeMs: number;
  kind: TimelineKind;
  text: string;
  replica?: string;
}

export interface DashboardSnapshot {
  protocol: string;
  timeMs: number;
  /** The leader a majority of the running replicas agree on, or null. */
  leader: string | null;
  replicas: ReplicaView[];
  /** Null when the cluster runs without the fault proxy (links cannot be cut). */
  links: LinkView[] | null;
  /** The highest commit index of any running replica, and its rate since the last poll. */
  commitIndex: number;
  commitsPerSec: number;
  load: LoadView;
  /** Whether the replicas run on power-loss filesystems (--lazyfs): the power buttons work. */
  powerLoss?: boolean;
  /** Where the replicas run: "loopback", or "netns <subnet>" (each in its own network namespace; links cut by iptables). */
  hosts?: string;
}
