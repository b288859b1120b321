/**
 * The snapshot policy on real replicas (snapshot-policy.ts; dissertation §5.1.3): a Raft and a
 * Multi-Paxos replica whose core asks for a snapshot every 20 entries take the next one only once
 * the commands applied since the last reach `snapshotLogRatio` times its bytes.
 */
import t from 'tap';
import { Cluster, type ClusterOptions } from '../../harness/cluster/cluster.js';
import { kv, until } from '../../harness/client/kv-client.js';

const ok = (r: { status: number }): boolean => r.status === 200;
const RATIO = 10;
const tuning = { snapshotEvery: 20, snapshotLogRatio: RATIO };

const cases: Array<{ name: string; options: ClusterOptions; snapshotAt: string }> = [
  { name: 'Raft', options: { protocol: 'raft', nodes: 1, logLevel: 'warn', tuning }, snapshotAt: 'snapshotIndex' },
  { name: 'Multi-Paxos', options: { protocol: 'multipaxos', nodes: 1, logLevel: 'warn', paxosTuning: tuning }, snapshotAt: 'snapshotSlot' },
];

for (const c of cases) {
  t.test(`${c.name}: a snapshot waits until the log since the last is ${RATIO}x its size`, async (t) => {
    const cluster = await Cluster.start(c.options);
    t.teardown(() => cluster.stopAll());
    const id = await cluster.waitForLeader(20_000);
    const url = cluster.replica(id).httpUrl;
    const status = async (): Promise<Record<string, unknown>> => (await cluster.status(id)) ?? {};
    let written = 0;
    const put = async (n: number): Promise<void> => {
      for (const end = written + n; written < end; written++) await until(() => kv.put(url, `k${written % 50}`, 'v'.repeat(100) + written), ok);
    };
    await put(30);
    // The first snapshot has no earlier one to compare with: taken when the core asks.
    const first = await until(status, (s) => Number(s[c.snapshotAt]) > 0 && Number(s['snapshotBytes']) > 0, 10_000, 'a first snapshot');
    const firstAt = Number(first[c.snapshotAt]);
    const firstBytes = Number(first['snapshotBytes']);
    await put(60);
    const held = await status();
    t.equal(Number(held[c.snapshotAt]), firstAt, `no snapshot in 60 more writes (the core asked every 20), first at ${firstAt} of ${firstBytes} bytes`);
    t.ok(Number(held['logBytesSinceSnapshot']) < RATIO * firstBytes, `log since it ${held['logBytesSinceSnapshot']} bytes < ${RATIO} x ${firstBytes}`);
    // Write on until the log passes RATIO x the snapshot (a write is about 160 bytes of log, so
    // more than 100 writes): then the next one is taken.
    let next: Record<string, unknown> = held;
    for (let round = 0; round < 40 && Number(next[c.snapshotAt]) === firstAt; round++) {
      await put(10);
      next = await status();
    }
    t.ok(Number(next[c.snapshotAt]) > firstAt + 100, `the next snapshot at ${next[c.snapshotAt]}, after ${written} writes`);
    t.ok(Number(next['snapshotBytes']) > 0, 'its size noted');
  });
}
