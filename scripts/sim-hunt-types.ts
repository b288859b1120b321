/** What scripts/sim-hunt.ts and its workers (scripts/sim-hunt-worker.ts) say to each other. */

export interface HuntConfig {
  protocol: 'raft' | 'multipaxos' | 'pbft';
  nodes: number;
}

/** Every cluster size the simulations know, for each protocol. */
export const HUNT_CONFIGS: HuntConfig[] = [
  { protocol: 'raft', nodes: 3 },
  { protocol: 'raft', nodes: 5 },
  { protocol: 'multipaxos', nodes: 3 },
  { protocol: 'multipaxos', nodes: 5 },
  { protocol: 'pbft', nodes: 4 },
  { protocol: 'pbft', nodes: 7 },
];

/** Parent -> worker: seeds from + index + k * stride, every config, until deadlineMs (epoch ms). */
export interface HuntJob {
  from: number;
  index: number;
  stride: number;
  deadlineMs: number;
  configs: HuntConfig[];
}

export type HuntReport =
  | { type: 'failure'; config: HuntConfig; seed: number; message: string }
  /** Seeds run so far by this worker, per config (same order as HuntJob.configs). */
  | { type: 'progress'; counts: number[] }
  | { type: 'done' };
