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
/** A write's command at most: a key, a value of 100-103 bytes and a client session. */
const WRITE_BYTES = 200;

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
    await put(22);
    // The first snapshot has no earlier one to compare with: taken when the core asks.
    const first = await until(status, (s) => Number(s[c.snapshotAt]) > 0 && Number(s['snapshotBytes']) > 0, 10_000, 'a first snapshot');
    const firstAt = Number(first[c.snapshotAt]);
    const firstBytes = Number(first['snapshotBytes']);
    // Writes that cannot bring the log to RATIO x the snapshot, even at WRITE_BYTES each.
    const room = Math.floor((RATIO * firstBytes - Number(first['logBytesSinceSnapshot'])) / WRITE_BYTES) - 1;
    t.ok(room >= 10, `room for ${room} writes before the next snapshot is due`);
    await put(room);
    const held = await status();
    t.equal(Number(held[c.snapshotAt]), firstAt, `no snapshot in ${room} more writes (the core asked every 20), first at ${firstAt} of ${firstBytes} bytes`);
    t.ok(Number(held['logBytesSinceSnapshot']) < RATIO * firstBytes, `log since it ${held['logBytesSinceSnapshot']} bytes < ${RATIO} x ${firstBytes}`);
    // Write on until the log passes RATIO x the snapshot: then the next one is taken. A write is
    // at most WRITE_BYTES of log, so that takes at least RATIO x firstBytes / WRITE_BYTES writes
    // (the count alone would have taken one every 20).
    let next: Record<string, unknown> = held;
    for (let round = 0; round < 40 && Number(next[c.snapshotAt]) === firstAt; round++) {
      await put(10);
      next = await status();
    }
    const least = Math.floor((RATIO * firstBytes) / WRITE_BYTES);
    t.ok(Number(next[c.snapshotAt]) - firstAt >= least, `the next snapshot at ${next[c.snapshotAt]}, at least ${least} after the first, after ${written} writes`);
    t.ok(Number(next['snapshotBytes']) > 0, 'its size noted');
  });
}
