/**
 * Our own replicas, through the harness's cluster launcher: a protocol with `nodes` replicas,
 * or (nodes = 1) the `single` baseline, the same HTTP server, LevelDB and fsync with nobody to
 * replicate to.
 */
import { Cluster, type ClusterOptions } from '../../harness/cluster/cluster.js';
import { onCleanup } from '../cleanup.js';
import { ourCounterNames, scrapeCounters } from '../prom-metrics.js';
import type { RunningSystem, SystemDefinition, SystemStartOptions } from './types.js';

type Protocol = ClusterOptions['protocol'];

/** `cluster` adds launcher options, e.g. PBFT's `{ pbftTuning: { authentication: 'sign-all' } }`. */
export function ourProtocol(
  protocol: Protocol,
  name: string = protocol,
  description = `${protocol}, our implementation`,
  cluster: Partial<ClusterOptions> = {},
): SystemDefinition {
  return {
    name,
    kind: 'protocol',
    description,
    failover: true,
    unavailable: () => Promise.resolve(null),
    start: (options) => startOurs(name, protocol, replicasFor(protocol, options.nodes), options, cluster),
  };
}

export function singleBaseline(protocol: Protocol = 'raft'): SystemDefinition {
  return {
    name: 'single',
    kind: 'baseline',
    failover: false,
    description: `one ${protocol} replica with no peers: our HTTP + LevelDB + fsync, no replication`,
    unavailable: () => Promise.resolve(null),
    start: (options) => startOurs('single', protocol, 1, options),
  };
}

/**
 * Compare at equal fault tolerance: `--nodes N` means N crash-tolerant replicas (f = (N-1)/2
 * crashes); PBFT tolerating the same f Byzantine faults needs 3f+1 (4 for the default 3).
 */
function replicasFor(protocol: Protocol, nodes: number): number {
  return protocol === 'pbft' ? 3 * Math.max(1, Math.floor((nodes - 1) / 2)) + 1 : nodes;
}

async function startOurs(
  name: string,
  protocol: Protocol,
  nodes: number,
  options: SystemStartOptions,
  extra: Partial<ClusterOptions> = {},
): Promise<RunningSystem> {
  const cluster = await Cluster.start({
    ...extra,
    protocol,
    nodes,
    logLevel: 'warn',
    ...(options.logDir === undefined ? {} : { logDir: options.logDir }),
  });
  const unregister = onCleanup(
    () => cluster.stopAll(),
    () => cluster.replicas.forEach((r) => r.process?.kill('SIGKILL')),
  );
  try {
    const leader = await cluster.waitForLeader(20_000);
    const urls = cluster.replicas.map((r) => r.httpUrl);
    const metricsUrls = urls.map((u) => `${u}/metrics`);
    const pids = cluster.replicas.map((r) => r.process?.pid ?? -1).filter((p) => p > 0);
    return {
      name,
      nodes,
      dialect: 'kv',
      targetUrl: cluster.replica(leader).httpUrl,
      urls,
      metricsUrls,
      pids: () => pids,
      replicas: () => cluster.replicas.map((r) => ({ id: r.id, url: r.httpUrl, pid: r.process?.pid ?? -1 })),
      // Raft: leader changes seen; Multi-Paxos: the same; PBFT: view changes completed.
      leaderCounter: 'consensus_leader_changes_total',
      readCounters: () => scrapeCounters(metricsUrls, ourCounterNames),
      killLeader: async () => {
        const id = await cluster.waitForLeader(10_000);
        const killedAtMs = Date.now();
        await cluster.kill(id);
        return { replica: id, killedAtMs };
      },
      stop: async () => {
        unregister();
        await cluster.stopAll();
      },
    };
  } catch (err) {
    unregister();
    await cluster.stopAll();
    throw err;
  }
}
