/**
 * A cluster for the dashboard with every replica in its own network namespace (`--hosts netns`,
 * harness/hosts): the link buttons cut links with iptables in the namespaces (KernelPartitions)
 * instead of the fault proxy, which is not in the way at all. Every replica runs `--debug-api`.
 * Created, not started (as createProxiedCluster): start it with `cluster.restart(id)` for each.
 */
import { Cluster, type ClusterOptions } from '../cluster/cluster.js';
import { KernelPartitions } from '../hosts/kernel-partitions.js';

export interface NetnsCluster {
  cluster: Cluster;
  partitions: KernelPartitions;
  /** For the dashboard's header: "netns 10.X.Y.0/24". */
  hostsLabel: string;
}

export async function createNetnsCluster(options: Omit<ClusterOptions, 'dial' | 'links' | 'hosts'>): Promise<NetnsCluster> {
  const cluster = await Cluster.create({ ...options, hosts: 'netns', replicaArgs: [...(options.replicaArgs ?? []), '--debug-api'] });
  const hosts = cluster.netns!;
  // A cut link stops what `from` sends to both ports `to` listens on (partition-rules.ts).
  const partitions = new KernelPartitions({ hosts, targets: () => cluster.replicas.map((r) => ({ id: r.id, ports: [r.peerPort, r.httpPort] })) });
  return { cluster, partitions, hostsLabel: `netns ${hosts.subnet.cidr}` };
}
