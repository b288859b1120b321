/**
 * The replica process: `node --import tsx nodes/main.ts --cluster cluster.json --id n1
 * --data-dir data/raft/n1`
 * (the cluster file's `protocol` chooses the Raft, Multi-Paxos or PBFT runtime; the harness starts it
 * from a bundle, harness/cluster/replica-build.ts). Opens LevelDB, starts the peer transport, the protocol runtime
 * and the HTTP API, and stops cleanly on SIGTERM/SIGINT (docs/design.md §3.1, §5.2).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from './http/app.js';
import { adminToken } from './http/admin-auth.js';
import { createLogger } from './logger.js';
import { parseHostPort, paxosTuning, raftTuning, readClusterFile, type ClusterFile, type NodeSpec } from './config.js';
import type { KvService } from './http/kv-service.js';
import { makeDurableDir } from './storage/durable-dir.js';
import { LevelDbPaxosStore } from './storage/leveldb-paxos-store.js';
import { LevelDbRaftLogStore } from './storage/leveldb-raft-log-store.js';
import { TcpTransport } from './transport/index.js';
import { PaxosReplica } from './multipaxos/paxos-replica.js';
import { RaftReplica } from './raft/raft-replica.js';
import { enableDebugApi } from './debug/enable-debug-api.js';
import { startPbft, type StartedPbft } from './pbft/start-pbft.js';
import { keyFilePath } from './pbft/keys.js';
import { ReplicaMetrics } from './metrics.js';
import { storageWriteTimer } from './replica-metrics.js';

const usage = `usage: node --import tsx nodes/main.ts --cluster FILE --id ID --data-dir DIR
  [--log-level info] [--exit-with-parent] [--unsafe-no-fsync] [--unsafe-local-reads] [--debug-api]
  PBFT: [--key-file FILE (default <data-dir>/../keys/<id>.json)] [--byzantine MODE]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cluster: { type: 'string' },
      id: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'exit-with-parent': { type: 'boolean', default: false },
      'unsafe-no-fsync': { type: 'boolean', default: false },
      'unsafe-local-reads': { type: 'boolean', default: false },
      'debug-api': { type: 'boolean', default: false },
      'key-file': { type: 'string' },
      byzantine: { type: 'string' },
    },
  });
  if (values.cluster === undefined || values.id === undefined || values['data-dir'] === undefined) {
    console.error(usage);
    process.exit(64);
  }
  const cluster = await readClusterFile(values.cluster);
  const self = cluster.nodes.find((n) => n.id === values.id);
  if (self === undefined) throw new Error(`no node ${values.id} in ${values.cluster}`);
  const logger = createLogger(self.id, cluster.protocol, values['log-level']);
  const dataDir = values['data-dir'];
  // Created and fsync'ed into its parent: otherwise a power failure can take the whole directory.
  await makeDurableDir(dataDir);

  const sync = !values['unsafe-no-fsync'];
  // One registry for the whole process (nodes/metrics.ts): Node's process metrics, the event-loop
  // delay histogram, and what the store, the runtime and the HTTP API register in it.
  const metrics = new ReplicaMetrics({ id: self.id, protocol: cluster.protocol, processMetrics: true, eventLoop: true });
  const onWrite = storageWriteTimer(metrics);
  const transport = new TcpTransport({
    id: self.id,
    listen: { host: self.host, port: self.peerPort },
    peers: peerAddresses(cluster, self),
    secret: cluster.secret,
    logger,
  });
  const common = {
    id: self.id,
    httpUrls: Object.fromEntries(cluster.nodes.map((n) => [n.id, `http://${n.host}:${n.httpPort}`])),
    transport,
    logger,
    unsafeLocalReads: values['unsafe-local-reads'],
    metrics,
  };
  // The runtime is chosen by the cluster file's protocol; transport, HTTP API and state machine are shared.
  // The replica registers its message handler before the transport accepts peers.
  let replica: KvService & { close(): Promise<void> };
  let store: { close(): Promise<void> };
  let pbft: StartedPbft | undefined;
  if (cluster.protocol === 'pbft') {
    const keyFile = values['key-file'] ?? keyFilePath(join(dataDir, '..'), self.id);
    pbft = await startPbft({ ...common, cluster, self, dataDir, keyFile, sync, onWrite, byzantine: values.byzantine });
    ({ replica, store } = pbft);
  } else if (cluster.protocol === 'multipaxos') {
    const paxosStore = await LevelDbPaxosStore.open(dataDir, { sync, onWrite });
    store = paxosStore;
    replica = await PaxosReplica.start({ ...common, replicas: cluster.nodes.map((n) => n.id), tuning: paxosTuning(cluster), store: paxosStore });
  } else {
    const raftStore = await LevelDbRaftLogStore.open(dataDir, { sync, onWrite });
    store = raftStore;
    replica = await RaftReplica.start({
      ...common,
      voters: cluster.voters ?? cluster.nodes.map((n) => n.id),
      clusterNodes: cluster.nodes,
      tuning: raftTuning(cluster),
      store: raftStore,
    });
  }
  const debug = values['debug-api'] ? enableDebugApi(self.id, replica, transport) : undefined;
  await transport.start();
  const app = build({ service: replica, metrics, adminToken: adminToken(cluster.secret), ...(debug === undefined ? {} : { debug }) });
  await pbft?.routes(app);
  await app.listen({ host: self.host, port: self.httpPort });
  logger.info({ http: `http://${self.host}:${self.httpPort}`, peer: `${self.host}:${self.peerPort}`, dataDir }, 'replica serving');

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'stopping');
    await app.close();
    await replica.close();
    await transport.close();
    await store.close();
    metrics.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Started by the harness with an IPC channel: when the harness dies, so does the replica.
  if (values['exit-with-parent'] && process.send !== undefined) process.on('disconnect', () => void stop('parent exited'));
}

function peerAddresses(cluster: ClusterFile, self: NodeSpec): Record<string, { host: string; port: number }> {
  const peers: Record<string, { host: string; port: number }> = {};
  for (const n of cluster.nodes) {
    if (n.id === self.id) continue;
    const via = self.dial?.[n.id];
    peers[n.id] = via === undefined ? { host: n.host, port: n.peerPort } : parseHostPort(via);
  }
  return peers;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
