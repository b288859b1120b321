/**
 * The checker can fail: the same kind of chaos run as chaos.test.ts with `--unsafe-local-reads`
 * (every replica answers reads from its local state) must be reported as a linearizability
 * violation, and the report must explain it. The real CLI in a child process (chaos-child.ts),
 * removed in teardown with its store.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChaosChild } from './chaos-child.js';

t.test('--unsafe-local-reads under partitions is caught as a linearizability violation', async (t) => {
  const run = await runChaosChild(
    t,
    [
      '--protocol', 'raft',
      '--nemesis', 'partition',
      '--time', '9',
      '--interval', '3',
      '--recovery', '1',
      '--seed', '3',
      '--mix', 'read:6,write:3,cas:1,delete:0',
      '--unsafe-local-reads',
    ],
    90_000,
  );
  if (run.code !== 1) t.comment(run.stdout);
  t.equal(run.code, 1, 'exit 1');
  t.equal(run.results['linearizability']?.valid, false, 'not linearizable');
  const v = run.results['linearizability']?.violation;
  t.ok(v?.ops?.some((op: { f: string }) => op.f === 'read'), 'a read is among the operations that cannot be linearized');
  t.match(run.stdout, /verdict: INVALID/);
  const report = await readFile(join(run.dir, 'report.html'), 'utf8');
  t.match(report, /Linearizability violation on key/, 'the report explains the violation');
});
