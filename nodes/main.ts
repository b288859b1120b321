/**
 * The replica process: `node --import tsx nodes/main.ts --cluster cluster.json --id n1
 * --data-dir data/raft/n1` (the harness starts it from a bundle, harness/cluster/replica-build.ts).
 * The cluster file's `protocol` chooses the runtime from one table (nodes/host/runtimes.ts), and
 * every protocol starts the same way: the runtime opens its LevelDB store and builds its core,
 * then the peer transport and the HTTP API start. Stops cleanly on SIGTERM/SIGINT
 * (docs/design.md §3.1, §5.2).
 */
import { parseArgs } from 'node:util';
import { build } from './http/app.js';
import { adminToken } from './http/admin-auth.js';
import { createLogger } from './logger.js';
import { parseHostPort, readClusterFile, type ClusterFile, type NodeSpec } from './config.js';
import { makeDurableDir } from './storage/durable-dir.js';
import { TcpTransport } from './transport/index.js';
import { enableDebugApi } from './debug/enable-debug-api.js';
import type { ReplicaFlags } from './host/protocol-runtime.js';
import { runtimes } from './host/runtimes.js';
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
  // The runtime is chosen by the cluster file's protocol; transport, HTTP API and state machine are shared.
  // The replica registers its message handler before the transport accepts peers.
  const flags: ReplicaFlags = { sync, unsafeLocalReads: values['unsafe-local-reads'], keyFile: values['key-file'], byzantine: values.byzantine };
  const runtime = runtimes[cluster.protocol];
  const { service: replica, store, routes } = await runtime.start({ cluster, self, dataDir, flags }, { transport, logger, metrics, onWrite });
  const debug = values['debug-api'] ? enableDebugApi(self.id, replica, transport) : undefined;
  await transport.start();
  const app = build({ service: replica, metrics, adminToken: adminToken(cluster.secret), ...(debug === undefined ? {} : { debug }) });
  await routes?.(app);
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
