/**
 * The cluster file every replica starts from (docs/design.md §5.2): its types, its checks, and
 * the Raft and Multi-Paxos tuning in typed sections (nodes/tuning.ts); PBFT's is in
 * nodes/pbft/pbft-config.ts.
 */
import { readFile } from 'node:fs/promises';
import type { PaxosConfig } from '../protocols/multipaxos/types.js';
import type { RaftConfig } from '../protocols/raft/types.js';
import type { PbftPublicKeys } from './pbft/keys.js';
import { DEFAULT_SNAPSHOT_LOG_RATIO } from './snapshots/snapshot-policy.js';
import { validatePbftFile, type PbftFileTuning } from './pbft/pbft-config.js';
import { runtimeTuningKeys, splitTuning, type FileTuning, type RuntimeTuning, type SectionKeys, type TuningSections } from './tuning.js';

/** One replica in a cluster file. */
export interface NodeSpec {
  id: string;
  host: string;
  httpPort: number;
  peerPort: number;
  /**
   * Where this replica dials each peer, when not at the peer's own host:peerPort. The harness
   * points these at its fault proxy so that it can cut and slow individual links.
   */
  dial?: Record<string, string>;
  /** PBFT only: this replica's public keys (SPKI DER, base64), see nodes/pbft/keys.ts. */
  publicKeys?: PbftPublicKeys;
}

/** The Raft core's own settings (protocols/raft/types.ts RaftConfig, minus what the runtime supplies). */
export type RaftCoreTuning = Omit<RaftConfig, 'id' | 'voters' | 'incarnation'>;

/** What the Raft runtime (nodes/raft/raft-replica.ts) reads; the core never sees these. */
export interface RaftRuntimeTuning extends RuntimeTuning {
  /** Raft §7: snapshots are stored and sent (InstallSnapshot) in chunks of about this many bytes. */
  maxSnapshotChunkBytes: number;
  /**
   * A snapshot the core asks for waits until the commands applied since the last one reach this
   * fraction of its bytes (dissertation §5.1.3; nodes/snapshots/snapshot-policy.ts).
   */
  snapshotLogRatio: number;
}

export type RaftTuning = TuningSections<RaftCoreTuning, RaftRuntimeTuning>;
/** The cluster file's `raft` section. */
export type RaftFileTuning = FileTuning<RaftTuning>;

export const defaultRaftTuning: RaftTuning = {
  core: {
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 2,
    preVote: true,
    checkQuorum: true,
    leaseReads: true,
    leaseDriftTicks: 2,
    maxAppendBytes: 1024 * 1024,
    maxInflightAppends: 64,
    maxUncommittedBytes: 64 * 1024 * 1024,
    snapshotEvery: 50_000,
  },
  runtime: {
    tickMs: 50,
    requestTimeoutMs: 5000,
    maxPendingRequests: 20_000,
    maxSnapshotChunkBytes: 1024 * 1024,
    snapshotLogRatio: DEFAULT_SNAPSHOT_LOG_RATIO,
  },
};

const raftTuningKeys: TuningSections<SectionKeys<RaftCoreTuning>, SectionKeys<RaftRuntimeTuning>> = {
  core: {
    electionTimeoutTicks: true,
    heartbeatIntervalTicks: true,
    preVote: true,
    checkQuorum: true,
    leaseReads: true,
    leaseDriftTicks: true,
    maxAppendBytes: true,
    maxInflightAppends: true,
    maxUncommittedBytes: true,
    snapshotEvery: true,
  },
  runtime: { ...runtimeTuningKeys, maxSnapshotChunkBytes: true, snapshotLogRatio: true },
};

/** The Multi-Paxos core's own settings (protocols/multipaxos/types.ts PaxosConfig, minus what the runtime supplies). */
export type PaxosCoreTuning = Omit<PaxosConfig, 'id' | 'replicas'>;

/** What the Multi-Paxos runtime (nodes/multipaxos/paxos-replica.ts) reads. */
export interface PaxosRuntimeTuning extends RuntimeTuning {
  /** Snapshots are stored and sent (SnapshotChunk) in chunks of about this many bytes. */
  maxSnapshotChunkBytes: number;
  /**
   * A snapshot the core asks for waits until the commands applied since the last one reach this
   * fraction of its bytes (dissertation §5.1.3; nodes/snapshots/snapshot-policy.ts).
   */
  snapshotLogRatio: number;
}

export type PaxosTuning = TuningSections<PaxosCoreTuning, PaxosRuntimeTuning>;
/** The cluster file's `multipaxos` section. */
export type PaxosFileTuning = FileTuning<PaxosTuning>;

export const defaultPaxosTuning: PaxosTuning = {
  core: {
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 2,
    window: 64,
    maxBatchBytes: 1024 * 1024,
    maxCatchUpSlots: 256,
    snapshotEvery: 4096,
  },
  runtime: {
    tickMs: 50,
    requestTimeoutMs: 5000,
    maxPendingRequests: 20_000,
    maxSnapshotChunkBytes: 1024 * 1024,
    snapshotLogRatio: DEFAULT_SNAPSHOT_LOG_RATIO,
  },
};

const paxosTuningKeys: TuningSections<SectionKeys<PaxosCoreTuning>, SectionKeys<PaxosRuntimeTuning>> = {
  core: { electionTimeoutTicks: true, heartbeatIntervalTicks: true, window: true, maxBatchBytes: true, maxCatchUpSlots: true, snapshotEvery: true },
  runtime: { ...runtimeTuningKeys, maxSnapshotChunkBytes: true, snapshotLogRatio: true },
};

export const protocols = ['raft', 'multipaxos', 'pbft'] as const;
export type Protocol = (typeof protocols)[number];

/** The cluster file every replica of a cluster is started with (docs/design.md §5.2). */
export interface ClusterFile {
  protocol: Protocol;
  /** Shared secret for the peer handshake (HMAC); never sent over the wire. */
  secret: string;
  nodes: NodeSpec[];
  /**
   * Raft: the bootstrap configuration's voters (dissertation §4.1), when not every node of
   * `nodes`: a replica started to join a running cluster is in `nodes` but not here.
   */
  voters?: string[];
  /** Tuning sections: each protocol's settings side by side, sorted into core and runtime when read (nodes/tuning.ts). */
  raft?: RaftFileTuning;
  multipaxos?: PaxosFileTuning;
  pbft?: PbftFileTuning;
}

export async function readClusterFile(path: string): Promise<ClusterFile> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  return validateClusterFile(parsed, path);
}

export function validateClusterFile(value: unknown, source = 'cluster file'): ClusterFile {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (typeof value !== 'object' || value === null) fail('not a JSON object');
  const file = value as ClusterFile;
  if (!protocols.includes(file.protocol)) fail(`unknown protocol ${JSON.stringify(file.protocol)}`);
  if (typeof file.secret !== 'string' || file.secret.length < 8) fail('secret must be a string of 8+ characters');
  if (!Array.isArray(file.nodes) || file.nodes.length === 0) fail('nodes must be a non-empty array');
  const ids = new Set<string>();
  for (const n of file.nodes) {
    if (typeof n.id !== 'string' || n.id === '' || ids.has(n.id)) fail(`bad or duplicate node id ${JSON.stringify(n.id)}`);
    ids.add(n.id);
    if (!Number.isInteger(n.httpPort) || !Number.isInteger(n.peerPort)) fail(`node ${n.id}: ports must be integers`);
    if (typeof n.host !== 'string') fail(`node ${n.id}: host must be a string`);
  }
  if (file.voters !== undefined) {
    if (!Array.isArray(file.voters) || file.voters.length === 0) fail('voters must be a non-empty array');
    for (const v of file.voters) if (!ids.has(v)) fail(`voter ${JSON.stringify(v)} is not in nodes`);
  }
  rejectRenamedSettings(file, fail);
  if (file.protocol === 'pbft') validatePbftFile(file, fail);
  return file;
}

/** Settings that were renamed: an old cluster file gets told the new name, not silently the default. */
const RENAMED: ReadonlyArray<{ section: 'raft' | 'multipaxos'; old: string; now: string }> = [
  { section: 'raft', old: 'snapshotEveryEntries', now: 'snapshotEvery' },
  { section: 'multipaxos', old: 'snapshotEverySlots', now: 'snapshotEvery' },
];

function rejectRenamedSettings(file: ClusterFile, fail: (why: string) => never): void {
  for (const { section, old, now } of RENAMED) {
    const given = file[section];
    if (typeof given === 'object' && given !== null && Object.hasOwn(given, old)) fail(`${section}.${old} is now ${section}.${now} (the core asks for a snapshot)`);
  }
}

export function raftTuning(file: ClusterFile): RaftTuning {
  return splitTuning(defaultRaftTuning, raftTuningKeys, file.raft);
}

export function paxosTuning(file: ClusterFile): PaxosTuning {
  return splitTuning(defaultPaxosTuning, paxosTuningKeys, file.multipaxos);
}

export function parseHostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const port = Number(text.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port)) throw new Error(`not host:port: ${text}`);
  return { host: text.slice(0, at), port };
}
