/**
 * A short chaos run with every replica in its own network namespace (`--hosts netns`,
 * harness/hosts): kernel partitions (iptables DROP or REJECT in the namespaces, seed 3 makes one
 * of them one-way) and kills against Raft stay linearizable with no lost writes (exit 0), the
 * results say which hosts mode ran, and nothing of the run's network is left afterwards.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { sh } from '../hosts/host-tools.js';
import { removeStaleRuns } from '../hosts/registry.js';
import { needNetns } from '../hosts/test-support.js';
import { runChaosChild } from './chaos-child.js';

t.test('raft under kernel partitions and kills, hosts in network namespaces: valid (exit 0)', async (t) => {
  if (!needNetns(t)) return;
  // Teardowns run in the order they were registered: this one after the child is gone (SIGKILLed
  // or not), removing what a killed run left.
  const run = await runChaosChild(t, ['--protocol', 'raft', '--nemesis', 'partition,kill', '--hosts', 'netns', '--time', '8', '--interval', '2', '--recovery', '2', '--seed', '3'], 120_000);
  t.teardown(() => removeStaleRuns());
  if (run.code !== 0) t.comment(run.stdout);
  t.equal(run.code, 0, 'exit 0');
  t.equal(run.results['linearizability']?.valid, true, 'linearizable');
  t.equal(run.results['lostWrites']?.valid, true, 'no lost writes');
  const network = run.results['network'] as { hosts: string; partitionsBy: string; bridge: string; replicas: Record<string, { namespace: string; address: string }> };
  t.equal(network.hosts, 'netns', 'the results name the hosts mode');
  t.equal(network.partitionsBy, 'kernel');
  const periods = run.results['periods'] as Array<{ fault: string }>;
  const partitions = run.history.filter((e) => e.process === 'nemesis' && e.f === 'start-partition').map((e) => e.value as Record<string, unknown>);
  t.ok(partitions.length >= 1 && partitions.every((p) => p['by'] === 'kernel'), `${partitions.length} kernel partitions ran`);
  t.ok(partitions.some((p) => p['oneWay'] === true), 'one of them one-way');
  t.ok(periods.some((p) => p.fault === 'kill'), 'a kill ran');
  t.ok(run.results['workload']?.ok > 100, `${run.results['workload']?.ok} ok operations`);
  t.match(await readFile(join(run.dir, 'report.html'), 'utf8'), /netns: every replica in its own network namespace/, 'the report shows the hosts mode');
  t.notMatch(await sh('ip', ['-o', 'link']), network.bridge, 'the bridge and veths are gone');
  const namespaces = await sh('ip', ['netns', 'list']);
  for (const r of Object.values(network.replicas)) t.notMatch(namespaces, r.namespace, `${r.namespace} is gone`);
});

