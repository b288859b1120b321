import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ClusterFile, NodeSpec } from '../config.js';
import type { KvService } from '../http/kv-service.js';
import { LevelDbPbftStore } from '../storage/leveldb-pbft-store.js';
import type { Transport } from '../transport/index.js';
import { byzantineWrapper } from './byzantine-mode.js';
import { loadKeys, type PbftPublicKeys } from './keys.js';
import { NodePbftCrypto } from './node-crypto.js';
import { pbftTuning } from './pbft-config.js';
import { PbftReplicaNode } from './pbft-replica-node.js';
import { pbftRoutes } from './pbft-routes.js';
import type { ReplicaMetrics } from '../metrics.js';
import type { WriteTimer } from '../replica-metrics.js';

export interface StartPbftOptions {
  cluster: ClusterFile;
  self: NodeSpec;
  dataDir: string;
  /** This replica's private keys (nodes/pbft/keys.ts); must match its public keys in the cluster file. */
  keyFile: string;
  sync: boolean;
  /** Times every storage batch (consensus_storage_write_seconds). */
  onWrite: WriteTimer;
  /** `--byzantine MODE`: misbehave on purpose (protocols/pbft/byzantine.ts). */
  byzantine: string | undefined;
  httpUrls: Record<string, string>;
  transport: Transport;
  logger: Logger;
  /** The process's metrics registry (nodes/metrics.ts). */
  metrics: ReplicaMetrics;
}

export interface StartedPbft {
  replica: KvService & { close(): Promise<void> };
  store: { close(): Promise<void> };
  /** Adds the library-client routes (POST /pbft/request, /pbft/read) to the HTTP app. */
  routes(app: FastifyInstance): Promise<void>;
}

/** The PBFT branch of nodes/main.ts: keys, crypto, LevelDB, the core and its runtime. */
export async function startPbft(o: StartPbftOptions): Promise<StartedPbft> {
  const keys = await loadKeys(o.keyFile);
  if (keys === null) {
    throw new Error(`no PBFT key file at ${o.keyFile}: the launcher creates it with the cluster file (nodes/pbft/keys.ts)`);
  }
  const replicas = o.cluster.nodes.map((n) => n.id);
  const publicKeys = o.cluster.nodes.map((n) => n.publicKeys as PbftPublicKeys);
  const crypto = new NodePbftCrypto(replicas.indexOf(o.self.id), keys, publicKeys);
  const wrap = o.byzantine === undefined ? undefined : byzantineWrapper(o.byzantine, crypto);
  const store = await LevelDbPbftStore.open(o.dataDir, { sync: o.sync, onWrite: o.onWrite });
  const node = await PbftReplicaNode.start({
    id: o.self.id,
    replicas,
    httpUrls: o.httpUrls,
    tuning: pbftTuning(o.cluster),
    store,
    transport: o.transport,
    crypto,
    logger: o.logger,
    metrics: o.metrics,
    ...(wrap === undefined ? {} : { wrap, byzantine: o.byzantine ?? null }),
  });
  if (o.byzantine !== undefined) o.logger.warn({ mode: o.byzantine }, 'this replica is Byzantine on purpose (--byzantine)');
  const service = node.service;
  return { replica: service, store, routes: async (app) => void (await app.register(pbftRoutes, { service })) };
}
