/**
 * `npm run cluster:raft [-- --nodes 5 --base-port 7000 --fresh --lazyfs]` (and `cluster:paxos`, `cluster:pbft`
 * [-- --nodes 7 --byzantine n2=equivocate]): a local cluster in the
 * foreground (docs/design.md §5.1). Replica i serves HTTP on base+i and peers on base+100+i, keeps its
 * data under ./data/<protocol>/n<i> between runs, and every process stops on Ctrl-C.
 * The live dashboard (harness/dashboard/, issue 8) is served on the base port (`--dashboard-port`,
 * `--no-dashboard`); with it, replica links go through the fault proxy and replicas run `--debug-api`.
 * `--lazyfs` puts every replica's data directory on a power-loss filesystem of its own
 * (harness/lazyfs; root and FUSE), for the console's `power-off` and the dashboard's power buttons.
 * `--hosts netns` puts every replica in its own network namespace with its own address on a bridge
 * of the run (harness/hosts; root, iproute2, iptables): the dashboard's link buttons then cut links
 * with iptables in the namespaces, and clients reach the replicas at their own addresses.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Cluster, hostsModes, repoRoot, type ClusterOptions, type HostsMode } from '../harness/cluster/cluster.js';
import type { LinkControl } from '../harness/dashboard/cluster-actions.js';
import { createNetnsCluster } from '../harness/dashboard/netns-cluster.js';
import { netnsMissing } from '../harness/hosts/host-tools.js';
import { protocols, type Protocol } from '../nodes/config.js';
import { makePrettyPrinter } from './pretty-log.js';
import { startConsole } from './cluster-console.js';
import { createProxiedCluster } from '../harness/dashboard/proxied-cluster.js';
import { startDashboard } from '../harness/dashboard/dashboard-server.js';

const { values } = parseArgs({
  options: {
    protocol: { type: 'string', default: 'raft' },
    nodes: { type: 'string' },
    'base-port': { type: 'string', default: '7000' },
    fresh: { type: 'boolean', default: false },
    data: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    json: { type: 'boolean', default: false },
    'no-dashboard': { type: 'boolean', default: false },
    'dashboard-port': { type: 'string' },
    /** Raft: once the cluster is up, add these replicas through membership changes (`--add n4,n5`). */
    add: { type: 'string' },
    /** PBFT: replicas that misbehave on purpose (`--byzantine n2=equivocate,n4=silent`). */
    byzantine: { type: 'string' },
    /** Every replica's data directory on its own power-loss filesystem (harness/lazyfs). */
    lazyfs: { type: 'boolean', default: false },
    /** loopback (default) or netns: every replica in its own network namespace (harness/hosts). */
    hosts: { type: 'string', default: 'loopback' },
  },
});

const protocol = values.protocol as Protocol;
if (!protocols.includes(protocol)) {
  console.error(`unknown protocol ${values.protocol}: this build has ${protocols.join(', ')}`);
  process.exit(64);
}
// PBFT needs n >= 3f + 1 with f >= 1: 4 replicas by default (docs/design.md §5.1).
const nodes = Number(values.nodes ?? (protocol === 'pbft' ? '4' : '3'));
const basePort = Number(values['base-port']);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9 || !Number.isInteger(basePort)) {
  console.error('--nodes must be 1..9 and --base-port an integer');
  process.exit(64);
}
if (protocol === 'pbft' && nodes < 4) {
  console.error('pbft needs --nodes 4 or more (n >= 3f + 1; --nodes 7 tolerates f = 2)');
  process.exit(64);
}
const hosts = values.hosts as HostsMode;
if (!hostsModes.includes(hosts)) {
  console.error(`--hosts must be one of ${hostsModes.join(', ')}, not ${values.hosts}`);
  process.exit(64);
}
if (hosts === 'netns' && netnsMissing() !== null) {
  console.error(netnsMissing());
  process.exit(3);
}
const byzantine = parseByzantine(values.byzantine);
const dataRoot = values.data ?? join(repoRoot, 'data', protocol);
const pretty = makePrettyPrinter(process.stdout.isTTY === true);
const print = values.json ? (_id: string, line: string) => line : pretty;

const withDashboard = !values['no-dashboard'];
const clusterOptions: ClusterOptions = {
  protocol,
  nodes,
  basePort,
  dataRoot,
  fresh: values.fresh,
  logLevel: values['log-level'],
  ...(byzantine === undefined ? {} : { byzantine }),
  ...(values.lazyfs ? { lazyfs: true } : {}),
  onLog: (id, line) => console.log(print(id, line)),
  onExit: (id, code, signal) => stopping || console.log(`[${id}] process exited (${signal ?? `code ${code}`}); type "restart ${id}" to start it again`),
};
// Who cuts links for the dashboard: iptables in the namespaces (netns), or the fault proxy.
const netns = hosts === 'netns' ? await createNetnsCluster(clusterOptions).catch(cannotCreate) : null;
const proxied = withDashboard && netns === null ? await createProxiedCluster(clusterOptions).catch(cannotCreate) : null;
const cluster = netns?.cluster ?? proxied?.cluster ?? (await Cluster.create(clusterOptions).catch(cannotCreate));
const links: LinkControl | null = netns?.partitions ?? proxied?.proxy ?? null;
let dashboard: Awaited<ReturnType<typeof startDashboard>> | null = null;

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping every replica...');
  await dashboard?.close().catch(() => undefined);
  await cluster.stopAll({ graceful: true }); // also removes the namespaces, bridge and rules (netns)
  await proxied?.proxy.close().catch(() => undefined);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
} catch (err) {
  console.error(`cluster failed to start: ${(err as Error).message}`);
  await shutdown(1);
}
console.log(`\n${protocol} cluster of ${nodes} replicas, data in ${dataRoot}${values.fresh ? ' (fresh)' : ''}`);
if (netns !== null) console.log(`  each replica in its own network namespace on ${netns.hostsLabel.replace('netns ', '')} (bridge ${cluster.netns!.names.bridge}, namespaces ${cluster.netns!.namespace('n1').replace(/n1$/, '<id>')})`);
if (cluster.powerLossEnabled) console.log(`  each replica on its own power-loss filesystem: ${join(dataRoot, 'lazyfs', '<id>')} ("power-off n1", "power-off all")`);
for (const r of cluster.replicas) {
  console.log(`  ${r.id}  http ${r.httpUrl}   peer ${r.host}:${r.peerPort}   pid ${r.process?.pid}`);
}
if (withDashboard && links !== null) {
  const port = Number(values['dashboard-port'] ?? basePort);
  const hostsLabel = netns?.hostsLabel ?? 'loopback';
  dashboard = await startDashboard({ protocol, cluster, proxy: links, hosts: hostsLabel, storeDir: join(repoRoot, 'store'), port }).catch((err: Error) => {
    console.error(`  dashboard failed to start on port ${port}: ${err.message} (try --dashboard-port)`);
    return null;
  });
  if (dashboard !== null) console.log(`  dashboard ${dashboard.url}   (${netns === null ? 'replica links go through the fault proxy' : 'links are cut by iptables in the namespaces'})`);
}
const leader = await cluster.waitForLeader(30_000).catch(() => null);
console.log(leader === null ? '  no leader yet' : `  ${protocol === 'pbft' ? 'primary' : 'leader'}: ${leader}`);
if (protocol === 'pbft') console.log(`  f = ${Math.floor((nodes - 1) / 3)}; replica keys in ${join(dataRoot, 'keys')} (kept by "wipe")`);
console.log(`\ntry:\n  curl -X PUT ${cluster.replicas[0]!.httpUrl}/kv/greeting -H 'content-type: application/json' -d '{"value":"hello"}'`);
console.log(`  curl ${cluster.replicas.at(-1)!.httpUrl}/kv/greeting\n  curl ${cluster.replicas[0]!.httpUrl}/status\nType "help" here for kill/restart/pause commands; Ctrl-C stops the cluster.\n`);
for (const id of values.add?.split(',').filter((x) => x !== '') ?? []) {
  console.log(`adding ${id}: it starts with an empty log, catches up as a learner, then becomes a voter...`);
  const added = await cluster.addReplica({ id }).catch((err: Error) => console.error(`  could not add ${id}: ${err.message}`));
  if (added) console.log(`  ${added.id}  http ${added.httpUrl}   peer ${added.host}:${added.peerPort}   pid ${added.process?.pid}   (now a voter)`);
}
startConsole(cluster, (line) => console.log(line));

/** The cluster could not be made (e.g. --lazyfs without FUSE): say why, without a stack trace. */
function cannotCreate(err: Error): never {
  console.error(`cannot start the cluster: ${err.message}`);
  process.exit(1);
}

/** `--byzantine n2=equivocate,n4=silent` (PBFT only; the replica checks the mode at start). */
function parseByzantine(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  if (protocol !== 'pbft') {
    console.error('--byzantine needs --protocol pbft');
    process.exit(64);
  }
  return Object.fromEntries(text.split(',').map((pair) => pair.split('=', 2) as [string, string]));
}
