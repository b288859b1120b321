/**
 * How nodes/main.ts starts a protocol (docs/design.md §3.1): every protocol has one
 * `ProtocolRuntime`, of the same shape, in the table of nodes/host/runtimes.ts keyed by the cluster
 * file's `protocol`. Starting one opens its store, builds its core from the disk state (restoring
 * any stored snapshot) and registers its peer-message handler on the transport, which main.ts
 * starts afterwards. What differs between protocols (PBFT's keys, its gateway on every replica,
 * its library routes; Raft's bootstrap voters) stays inside its runtime.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ClusterFile, NodeSpec } from '../config.js';
import type { KvService } from '../http/kv-service.js';
import type { ReplicaMetrics } from '../metrics.js';
import type { WriteTimer } from '../replica-metrics.js';
import type { Transport } from '../transport/index.js';

/** The command line's switches (docs/design.md §3.1); each runtime reads the ones it knows. */
export interface ReplicaFlags {
  /** The stores fsync (false: `--unsafe-no-fsync`). */
  sync: boolean;
  /** `--unsafe-local-reads` (Raft, Multi-Paxos): linearizable reads from local state. */
  unsafeLocalReads: boolean;
  /** `--key-file` (PBFT): this replica's private keys; absent: `<data-dir>/../keys/<id>.json`. */
  keyFile: string | undefined;
  /** `--byzantine MODE` (PBFT): misbehave on purpose (protocols/pbft/byzantine.ts). */
  byzantine: string | undefined;
}

/** What a replica is started as: its cluster, itself in it, its data directory and its flags. */
export interface RuntimeConfig {
  cluster: ClusterFile;
  self: NodeSpec;
  dataDir: string;
  flags: ReplicaFlags;
}

/** What main.ts builds once for the process and hands to the runtime. */
export interface RuntimeDeps {
  /** The peer transport, not yet started: the runtime registers its handler first. */
  transport: Transport;
  logger: Logger;
  /** The process's metrics registry (nodes/metrics.ts). */
  metrics: ReplicaMetrics;
  /** Times every storage batch (consensus_storage_write_seconds). */
  onWrite: WriteTimer;
}

/** A started replica. main.ts closes the HTTP server, `service`, the transport and `store`, in that order. */
export interface StartedReplica {
  /** What the HTTP API serves (nodes/http/app.ts); closing it fails waiting clients and stops the runtime. */
  service: KvService & { close(): Promise<void> };
  store: { close(): Promise<void> };
  /** Routes of the protocol's own, added to the HTTP app (PBFT's library client: POST /pbft/request, /pbft/read). */
  routes?: (app: FastifyInstance) => Promise<void>;
}

export interface ProtocolRuntime {
  start(config: RuntimeConfig, deps: RuntimeDeps): Promise<StartedReplica>;
}

/** HTTP base URL of every replica of the cluster file, for forwarding and for /status. */
export function httpUrls(cluster: ClusterFile): Record<string, string> {
  return Object.fromEntries(cluster.nodes.map((n) => [n.id, `http://${n.host}:${n.httpPort}`]));
}
