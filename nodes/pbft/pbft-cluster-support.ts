/**
 * What the PBFT multi-process tests share (pbft-cluster.test.ts, pbft-byzantine.test.ts): a
 * four-replica cluster (f = 1) with small checkpoints, stopped in the test's teardown.
 */
import type { Test } from 'tap';
import { Cluster, type ClusterOptions } from '../../harness/cluster/cluster.js';
import { until, type KvResponse } from '../../harness/client/kv-client.js';

export const ok = (r: KvResponse): boolean => r.status === 200;
/** Small checkpoints, so the tests cross several of them; a quick view-change timer. */
export const pbftTuning = { checkpointInterval: 8, watermarkWindow: 16, requestTimeoutTicks: 20, retransmitMs: 1000 };

export async function startCluster(t: Test, extra: Partial<ClusterOptions> = {}): Promise<Cluster> {
  const cluster = await Cluster.start({ protocol: 'pbft', nodes: 4, logLevel: 'warn', pbftTuning, ...extra });
  t.teardown(() => cluster.stopAll());
  await cluster.waitForLeader(20_000);
  return cluster;
}

export async function status(cluster: Cluster, id: string): Promise<Record<string, unknown>> {
  return (await until(() => cluster.status(id), (s) => s !== null, 20_000, `status of ${id}`))!;
}
