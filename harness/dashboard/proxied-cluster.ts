/**
 * A cluster for the dashboard: every replica-to-replica link goes through the fault proxy (so
 * links can be cut from the browser), also the links of replicas added later (Raft membership
 * changes, `Cluster.addReplica`), and every replica runs with `--debug-api`. Created, not
 * started: start it with `cluster.restart(id)` for each replica (as the chaos runner does).
 */
import { Cluster, type ClusterOptions } from '../cluster/cluster.js';
import { FaultProxy } from '../proxy/fault-proxy.js';

export interface ProxiedCluster {
  cluster: Cluster;
  proxy: FaultProxy;
}

export async function createProxiedCluster(options: Omit<ClusterOptions, 'dial' | 'links'>): Promise<ProxiedCluster> {
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const proxy = await FaultProxy.start({ ids });
  try {
    const links = { addNode: (id: string, target: { host: string; port: number }) => proxy.addNode(id, target), removeNode: (id: string) => proxy.removeNode(id) };
    const cluster = await Cluster.create({ ...options, dial: proxy.dial, links, replicaArgs: [...(options.replicaArgs ?? []), '--debug-api'] });
    for (const r of cluster.replicas) proxy.setTarget(r.id, { host: '127.0.0.1', port: r.peerPort });
    return { cluster, proxy };
  } catch (err) {
    await proxy.close();
    throw err;
  }
}
