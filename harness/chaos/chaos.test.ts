/**
 * The chaos command end to end, against real replicas: a short run of Raft and of Multi-Paxos
 * under partitions, kills and pauses must be linearizable with no lost writes, and write its
 * history, report and replica logs. PBFT's run: chaos-pbft.test.ts; an unsafe switch caught:
 * chaos-unsafe.test.ts (one file each, so that tap runs them beside each other). Each run is the
 * real CLI in a child process (chaos-child.ts), removed in teardown with its store.
 */
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runChaosChild } from './chaos-child.js';

for (const protocol of ['raft', 'multipaxos']) {
  t.test(`${protocol} under partition, kill and pause: linearizable, no lost writes`, async (t) => {
    const run = await runChaosChild(t, ['--protocol', protocol, '--nemesis', 'partition,kill,pause', '--time', '14', '--interval', '3', '--recovery', '3', '--seed', '7'], 90_000);
    if (run.code !== 0) t.comment(run.stdout);
    t.equal(run.code, 0, 'exit 0');
    t.equal(run.results['verdict'], 'valid');
    t.equal(run.results['linearizability']?.valid, true, 'linearizable');
    t.equal(run.results['lostWrites']?.valid, true, 'no lost writes');
    t.ok(run.results['workload']?.ok > 200, `${run.results['workload']?.ok} ok operations`);
    t.ok((run.results['periods'] as unknown[]).length >= 2, 'faults ran');
    t.ok(run.results['availability']?.answeredRatioAfterHeal > 0.8, 'available again after the final heal');
    for (const f of ['history.jsonl', 'report.html', 'n1.log', 'n2.log', 'n3.log']) {
      t.ok((await stat(join(run.dir, f)).catch(() => null)) !== null, `${f} written`);
    }
    const history = await readFile(join(run.dir, 'history.jsonl'), 'utf8');
    t.match(history, /"process":"nemesis","type":"info","f":"start-/, 'nemesis events in the history');
    t.match(run.stdout, /verdict: VALID/);
  });
}
