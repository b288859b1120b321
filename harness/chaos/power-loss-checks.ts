/**
 * For the power-loss chaos tests (power-loss.test.ts, power-loss-protocols.test.ts): the run they
 * share and what a valid run must show. Seed 175's schedule (8 s, a fault every 2 s) starts with a
 * whole-cluster power failure 2.1 s into the workload (every replica is up then, so it runs for
 * sure), then plans another at 4.1 s and a power loss of the leader at 6.4 s (these two run when
 * the replicas are back in time, which a loaded machine may not allow). A lost value is only seen
 * if it is read, or left alone to the end, before a client writes the key again; with the default
 * mix and 5 keys every key's first operation after the restart is a write or a delete often enough
 * to hide a loss. So the mix is read-heavy and without deletes, and there are 20 keys: on a loaded
 * machine few operations get through after the restart, and the keys they do not touch keep their
 * final value, which the no-lost-writes check compares with what was acknowledged.
 */
import type { Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChaosChild, type ChaosRun } from './chaos-child.js';

export const powerLossArgs = (protocol: string, extra: string[] = []): string[] => [
  '--protocol', protocol,
  '--nemesis', 'power-loss',
  '--time', '8', '--interval', '2', '--recovery', '2',
  '--seed', '175',
  '--mix', 'read:6,write:3,cas:1,delete:0',
  '--keys', '20',
  ...extra,
];

/** The run must be linearizable with no acknowledged write lost, after a whole-cluster power failure. */
export async function expectValidPowerLossRun(t: Test, protocol: string): Promise<ChaosRun> {
  const r = await runChaosChild(t, powerLossArgs(protocol), 150_000);
  if (r.code !== 0) t.comment(r.stdout);
  t.equal(r.code, 0, 'exit 0');
  t.equal(r.results['linearizability']?.valid, true, 'linearizable');
  t.equal(r.results['lostWrites']?.valid, true, 'no lost writes');
  const periods = (r.results['periods'] ?? []) as Array<{ fault: string; startMs: number; detail: Record<string, unknown> }>;
  const whole = periods.find((p) => p.detail['wholeCluster'] === true);
  t.ok(whole !== undefined, 'a whole-cluster power failure ran');
  t.comment(`power failures: ${periods.map((p) => (p.detail['wholeCluster'] === true ? 'whole cluster' : `${p.fault} ${p.detail['nodes'] ?? ''}`)).join(', ')}`);
  t.match(r.results['powerLoss'], { errors: 0, undoErrors: 0 }, 'every power loss ran cleanly');
  if (whole !== undefined) {
    const acked = await ackedBefore(r.dir, whole.startMs);
    // Dozens usually; a loaded machine serves few operations in the 2 s before it. Each must survive.
    t.ok(acked >= 1, `${acked} writes acknowledged before the whole-cluster power failure (${r.results['lostWrites']?.acknowledgedWrites} in all)`);
  }
  const report = await readFile(join(r.dir, 'report.html'), 'utf8').catch(() => '');
  t.match(report, /power failure: whole cluster/, 'report.html shows the power-loss periods');
  return r;
}

/** Writes and cas operations acknowledged (ok) before `ms` into the run: what a power failure then must not lose. */
async function ackedBefore(dir: string, ms: number): Promise<number> {
  const lines = (await readFile(join(dir, 'history.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
  const events = lines.map((l) => JSON.parse(l) as { process: unknown; type: string; f: string; time: number });
  return events.filter((e) => e.process !== 'nemesis' && e.type === 'ok' && (e.f === 'write' || e.f === 'cas') && e.time / 1e6 < ms).length;
}
