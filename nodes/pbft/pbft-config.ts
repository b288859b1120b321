/**
 * PBFT settings of the cluster file (its `pbft` section) and the PBFT checks of the cluster file
 * itself: n >= 4 replicas (n >= 3f + 1 with f >= 1, Castro and Liskov §2), and every replica's
 * public keys.
 */
import { messageBytesMax } from '../../protocols/pbft/message-bounds.js';
import type { PbftConfig } from '../../protocols/pbft/types.js';
import type { PbftPublicKeys } from './keys.js';
import { defaultHttpLimits } from '../http/limits.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../transport/transport-options.js';
import { byzantineF } from '../../protocols/common/quorum.js';

/** The core's own settings (protocols/pbft/types.ts PbftConfig minus n and self), plus what the runtime adds. */
export type PbftTuning = Omit<PbftConfig, 'n' | 'self' | 'maxPendingRequests'> & {
  /** Milliseconds of real time per core tick. */
  tickMs: number;
  /** A client request not answered by f+1 matching replies by then gets 504 TIMEOUT. */
  requestTimeoutMs: number;
  /** Requests waiting at this replica (core queue, gateway and library routes); beyond it 429 OVERLOADED. */
  maxPendingRequests: number;
  /** The read-only optimisation waits this long for 2f+1 matching replies, then orders the read (OSDI §5.1.3). */
  readOnlyTimeoutMs: number;
  /** A gateway resends an unanswered request after this long, doubling (OSDI §4.1: clients retransmit). */
  retransmitMs: number;
};

export const defaultPbftTuning: PbftTuning = {
  checkpointInterval: 128,
  watermarkWindow: 256,
  maxBatchRequests: 512,
  maxBatchBytes: 1024 * 1024,
  // One batch in progress (the core's default is 2): a batch costs every replica about three
  // synced writes and seven messages whatever its size, so under load fewer, larger batches cost
  // less CPU per request (see README.md, Gateway details).
  maxBatchesInFlight: 1,
  requestTimeoutTicks: 40,
  authentication: 'mac',
  tickMs: 50,
  requestTimeoutMs: 10_000,
  maxPendingRequests: 20_000,
  readOnlyTimeoutMs: 300,
  retransmitMs: 2000,
};

/** The largest f with n >= 3f + 1. */
/** f for n replicas (n >= 3f + 1): protocols/common/quorum.ts is the one source. */
export const faultsTolerated = byzantineF;

/**
 * The part of a cluster file (nodes/config.ts ClusterFile) that PBFT reads: its nodes' public keys
 * and its `pbft` section. Named here, not imported, so config.ts and this file do not import each
 * other.
 */
export interface PbftClusterFile {
  nodes: ReadonlyArray<{ id: string; publicKeys?: PbftPublicKeys }>;
  pbft?: Partial<PbftTuning>;
}

export function pbftTuning(file: PbftClusterFile): PbftTuning {
  return { ...defaultPbftTuning, ...file.pbft };
}

export function validatePbftFile(file: PbftClusterFile, fail: (why: string) => never): void {
  if (file.nodes.length < 4) fail(`pbft needs at least 4 replicas (n >= 3f + 1 with f >= 1), got ${file.nodes.length}`);
  for (const node of file.nodes) {
    const keys = node.publicKeys;
    if (typeof keys?.ed25519 !== 'string' || typeof keys.x25519 !== 'string') {
      fail(`node ${node.id}: pbft needs publicKeys { ed25519, x25519 } (base64 SPKI)`);
    }
  }
  const tuning = pbftTuning(file);
  if (!['mac', 'sign-all'].includes(tuning.authentication)) fail(`pbft.authentication must be 'mac' or 'sign-all'`);
  const positive: Array<keyof PbftTuning> = [
    'checkpointInterval', 'watermarkWindow', 'maxBatchRequests', 'maxBatchBytes', 'requestTimeoutTicks',
    'tickMs', 'requestTimeoutMs', 'maxPendingRequests', 'readOnlyTimeoutMs', 'retransmitMs',
  ];
  for (const name of positive) {
    const v: unknown = tuning[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`pbft.${name} must be a positive integer`);
  }
  if (tuning.watermarkWindow % tuning.checkpointInterval !== 0) fail('pbft.watermarkWindow must be a multiple of checkpointInterval (OSDI §4.3)');
  const largest = pbftMessageBytesMax(tuning, file.nodes.length);
  if (largest > DEFAULT_MAX_FRAME_BYTES) {
    fail(`pbft: a view change over a full window could need ${largest} bytes, more than a peer frame (${DEFAULT_MAX_FRAME_BYTES}); lower maxCarriedBatchBytes, watermarkWindow or maxBatchBytes`);
  }
}

/**
 * The largest request the HTTP API admits on the wire: a cas with expected and value at the
 * value limit, a key at its limit, a client id (the message guard's 512 units) and headers.
 */
export const REQUEST_WIRE_BYTES_MAX = 2 * defaultHttpLimits.valueBytesMax + defaultHttpLimits.keyBytesMax + 3 * 512 + 256;

/** The largest peer message the core can send with this tuning (protocols/pbft/message-bounds.ts). */
export function pbftMessageBytesMax(tuning: PbftTuning, n: number): number {
  return messageBytesMax({ ...tuning, n }, REQUEST_WIRE_BYTES_MAX);
}
