/**
 * PBFT settings of the cluster file (its `pbft` section, read into typed sections: nodes/tuning.ts)
 * and the PBFT checks of the cluster file itself: n >= 4 replicas (n >= 3f + 1 with f >= 1,
 * Castro and Liskov §2), and every replica's public keys.
 */
import { messageBytesMax } from '../../protocols/pbft/message-bounds.js';
import type { PbftConfig } from '../../protocols/pbft/types.js';
import type { PbftPublicKeys } from './keys.js';
import { defaultHttpLimits } from '../http/limits.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../transport/transport-options.js';
import { byzantineF } from '../../protocols/common/quorum.js';
import { runtimeTuningKeys, splitTuning, type FileTuning, type RuntimeTuning, type SectionKeys, type TuningSections } from '../tuning.js';

/** The core's own settings (protocols/pbft/types.ts PbftConfig, minus n, self and maxPendingRequests). */
export type PbftCoreTuning = Omit<PbftConfig, 'n' | 'self' | 'maxPendingRequests'>;

/**
 * What the PBFT runtime and its gateway read (nodes/pbft/pbft-replica-node.ts, pbft-kv-service.ts).
 * `requestTimeoutMs`: a client request not answered by f+1 matching replies by then gets 504
 * TIMEOUT. `maxPendingRequests`: requests waiting at this replica (core queue, gateway and library
 * routes); the runtime hands it to the core as PbftConfig.maxPendingRequests.
 */
export interface PbftRuntimeTuning extends RuntimeTuning {
  /** The read-only optimisation waits this long for 2f+1 matching replies, then orders the read (OSDI §5.1.3). */
  readOnlyTimeoutMs: number;
  /** A gateway resends an unanswered request after this long, doubling (OSDI §4.1: clients retransmit). */
  retransmitMs: number;
}

export type PbftTuning = TuningSections<PbftCoreTuning, PbftRuntimeTuning>;
/** The cluster file's `pbft` section. */
export type PbftFileTuning = FileTuning<PbftTuning>;

export const defaultPbftTuning: PbftTuning = {
  core: {
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
  },
  runtime: {
    tickMs: 50,
    requestTimeoutMs: 10_000,
    maxPendingRequests: 20_000,
    readOnlyTimeoutMs: 300,
    retransmitMs: 2000,
  },
};

const pbftTuningKeys: TuningSections<SectionKeys<PbftCoreTuning>, SectionKeys<PbftRuntimeTuning>> = {
  core: {
    checkpointInterval: true,
    watermarkWindow: true,
    maxBatchRequests: true,
    maxBatchBytes: true,
    maxBatchesInFlight: true,
    requestTimeoutTicks: true,
    authentication: true,
    retransmitTicks: true,
    maxTransferBytes: true,
    maxCarriedBatchBytes: true,
  },
  runtime: { ...runtimeTuningKeys, readOnlyTimeoutMs: true, retransmitMs: true },
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
  pbft?: PbftFileTuning;
}

export function pbftTuning(file: PbftClusterFile): PbftTuning {
  return splitTuning(defaultPbftTuning, pbftTuningKeys, file.pbft);
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
  const { core, runtime } = tuning;
  if (!['mac', 'sign-all'].includes(core.authentication)) fail(`pbft.authentication must be 'mac' or 'sign-all'`);
  // Both sections side by side, as the file names them (no key is in both).
  const settings = { ...core, ...runtime };
  const positive: Array<keyof typeof settings> = [
    'checkpointInterval', 'watermarkWindow', 'maxBatchRequests', 'maxBatchBytes', 'requestTimeoutTicks',
    'tickMs', 'requestTimeoutMs', 'maxPendingRequests', 'readOnlyTimeoutMs', 'retransmitMs',
  ];
  for (const name of positive) {
    const v: unknown = settings[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`pbft.${name} must be a positive integer`);
  }
  if (core.watermarkWindow % core.checkpointInterval !== 0) fail('pbft.watermarkWindow must be a multiple of checkpointInterval (OSDI §4.3)');
  const largest = pbftMessageBytesMax(core, file.nodes.length);
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
export function pbftMessageBytesMax(core: PbftCoreTuning, n: number): number {
  return messageBytesMax({ ...core, n }, REQUEST_WIRE_BYTES_MAX);
}
