/**
 * `npm run cluster:raft [-- --nodes 5 --base-port 7000 --fresh]` (and `cluster:paxos`): a local cluster in the
 * foreground (DESIGN.md §5). Replica i serves HTTP on base+i and peers on base+100+i, keeps its
 * data under ./data/<protocol>/n<i> between runs, and every process stops on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Cluster, repoRoot } from '../harness/cluster/cluster.js';
import { protocols, type Protocol } from '../nodes/config.js';
import { makePrettyPrinter } from './pretty-log.js';
import { startConsole } from './cluster-console.js';

const { values } = parseArgs({
  options: {
    protocol: { type: 'string', default: 'raft' },
    nodes: { type: 'string', default: '3' },
    'base-port': { type: 'string', default: '7000' },
    fresh: { type: 'boolean', default: false },
    data: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    json: { type: 'boolean', default: false },
  },
});

const protocol = values.protocol as Protocol;
if (!protocols.includes(protocol)) {
  console.error(`unknown protocol ${values.protocol}: this build has ${protocols.join(', ')}`);
  process.exit(64);
}
const nodes = Number(values.nodes);
const basePort = Number(values['base-port']);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9 || !Number.isInteger(basePort)) {
  console.error('--nodes must be 1..9 and --base-port an integer');
  process.exit(64);
}
const dataRoot = values.data ?? join(repoRoot, 'data', protocol);
const pretty = makePrettyPrinter(process.stdout.isTTY === true);
const print = values.json ? (_id: string, line: string) => line : pretty;

const cluster = await Cluster.create({
  protocol,
  nodes,
  basePort,
  dataRoot,
  fresh: values.fresh,
  logLevel: values['log-level'],
  onLog: (id, line) => console.log(print(id, line)),
  onExit: (id, code, signal) => stopping || console.log(`[${id}] process exited (${signal ?? `code ${code}`}); type "restart ${id}" to start it again`),
});

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping every replica...');
  await cluster.stopAll({ graceful: true });
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
for (const r of cluster.replicas) {
  console.log(`  ${r.id}  http ${r.httpUrl}   peer 127.0.0.1:${r.peerPort}   pid ${r.process?.pid}`);
}
const leader = await cluster.waitForLeader(30_000).catch(() => null);
console.log(leader === null ? '  no leader yet' : `  leader: ${leader}`);
console.log(`\ntry:\n  curl -X PUT ${cluster.replicas[0]!.httpUrl}/kv/greeting -H 'content-type: application/json' -d '{"value":"hello"}'`);
console.log(`  curl ${cluster.replicas.at(-1)!.httpUrl}/kv/greeting\n  curl ${cluster.replicas[0]!.httpUrl}/status\nType "help" here for kill/restart/pause commands; Ctrl-C stops the cluster.\n`);
startConsole(cluster, (line) => console.log(line));
