/**
 * `npm run bench -- [flags]` (see bench/README.md and `--help`): starts each system fresh,
 * drives it, stops it, and writes bench/results/<time>/{results.json, run.json, report.md,
 * report.html} and prints the table.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanupAll, onCleanup } from './cleanup.js';
import { LoadGenerator } from './load-client.js';
import { parseOptions, UsageError, type BenchOptions } from './options.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';
import { runBench, type BenchOutcome } from './runner.js';
import { soakGoalChecks } from './soak-goals.js';
import { soakEventLines, soakSummaryHeader, soakSummaryRow } from './soak-summary.js';
import { fmtOpt, goalChecks, ratios, tableHeader, tableRow, textTable, type RunMeta } from './summary.js';
import { etcdBinary } from './systems/etcd.js';
import { targetGoalChecks } from './target-goals.js';

export async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      console.error((err as Error).message);
      return 64;
    }
    throw err;
  }
  const startedAt = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  const dir = resolve(options.out, startedAt.toISOString().replace(/:/g, '-'));
  await mkdir(join(dir, 'logs'), { recursive: true });
  const log = (line: string): void => console.log(line);
  log(
    `consensus-lab bench: ${options.systems.join(', ')} × ${options.workloads.join(', ') || '(no workloads)'} × --target ${options.targets.join(',')} × ${options.connections.join(', ')} connections, ` +
      `${options.durationS} s each${options.rounds > 1 ? `, ${options.rounds} interleaved rounds` : ''} → ${dir}`,
  );

  const load = LoadGenerator.start();
  const unregister = onCleanup(() => load.stop(), () => load.killNow());
  let outcome: BenchOutcome;
  try {
    outcome = await runBench(options, load, log, join(dir, 'logs'));
  } finally {
    unregister();
    await load.stop();
    await cleanupAll();
  }
  const meta: RunMeta = {
    command: `npm run bench -- ${argv.join(' ')}`.trim(),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machine(),
    loadAverage: { start: round2(loadAtStart), end: round2(loadavg()[0] ?? 0) },
    options: { ...options },
  };
  await writeFile(join(dir, 'results.json'), JSON.stringify(outcome.cells, null, 2) + '\n');
  await writeFile(join(dir, 'run.json'), JSON.stringify({ ...meta, notes: outcome.notes }, null, 2) + '\n');
  if (outcome.failover.length > 0) await writeFile(join(dir, 'failover.json'), JSON.stringify(outcome.failover, null, 2) + '\n');
  if (outcome.soaks.length > 0) await writeFile(join(dir, 'soak.json'), JSON.stringify(outcome.soaks) + '\n');
  await writeFile(join(dir, 'report.md'), renderMarkdown(outcome.cells, outcome.failover, outcome.notes, meta, outcome.soaks));
  await writeFile(join(dir, 'report.html'), renderHtml(outcome.cells, outcome.failover, outcome.notes, meta, outcome.soaks));
  printSummary(outcome);
  if (Math.max(meta.loadAverage.start, meta.loadAverage.end) > meta.machine.cores) {
    log(`\nwarning: load average ${meta.loadAverage.start} → ${meta.loadAverage.end} on ${meta.machine.cores} cores: other work competed with this run`);
  }
  log(`\nwrote ${join(dir, 'results.json')}, ${outcome.soaks.length > 0 ? 'soak.json, ' : ''}report.md, report.html`);
  return outcome.notes.some((n) => n.note.startsWith('failed')) ? 1 : 0;
}

function printSummary(outcome: BenchOutcome): void {
  console.log('');
  if (outcome.cells.length > 0) console.log(textTable(tableHeader, outcome.cells.map(tableRow)));
  const rs = ratios(outcome.cells);
  if (rs.length > 0) {
    console.log('\nratios (req/s, p99):');
    for (const r of rs) console.log(`  ${r.workload} --target ${r.target} c=${r.connections} ${r.numerator}/${r.denominator}: ${fmtOpt(r.rps)}× req/s, ${fmtOpt(r.p99)}× p99`);
  }
  const goals = goalChecks(outcome.cells).filter((g) => g.met !== null);
  if (goals.length > 0) {
    console.log('\ngoals (issue 7):');
    for (const g of goals) console.log(`  [${g.met === true ? 'met' : 'NOT met'}] ${g.goal}: ${g.value}`);
  }
  const targetRows = targetGoalChecks(outcome.cells);
  if (targetRows.length > 0) {
    console.log('\ngoals through any replica (issue 13, on the medians):');
    for (const g of targetRows) console.log(`  [${g.met === null ? 'n/a' : g.met ? 'met' : 'NOT met'}] ${g.goal}: ${g.value}`);
  }
  if (outcome.soaks.length > 0) {
    console.log('\nsoak:');
    console.log(textTable(soakSummaryHeader, outcome.soaks.map((s) => soakSummaryRow(s, outcome.soaks))));
    for (const s of outcome.soaks) for (const line of soakEventLines(s, outcome.soaks)) console.log(`  ${line}`);
    const goals = soakGoalChecks(outcome.soaks);
    if (goals.length > 0) console.log('\nsoak goals:');
    for (const g of goals) console.log(`  [${g.met === null ? 'n/a' : g.met ? 'met' : 'NOT met'}] ${g.goal}: ${g.value}`);
  }
  for (const f of outcome.failover) {
    console.log(`\nfailover ${f.system}: killed ${f.killedReplica}; first write acknowledged ${f.recoveryMs ?? 'never'} ms after the kill; longest gap ${f.longestGapMs} ms`);
  }
  for (const n of outcome.notes) console.log(`note: ${n.system}${n.workload === undefined ? '' : ` (${n.workload})`}: ${n.note}`);
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

function machine(): RunMeta['machine'] {
  const cpu = cpus();
  let etcd: string | null = null;
  const bin = etcdBinary();
  if (bin !== null) {
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    etcd = /etcd Version: (\S+)/.exec(v.stdout)?.[1] ?? 'unknown';
  }
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    etcd,
  };
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${signal}: stopping every system...`);
    void cleanupAll({ final: true }).finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    await cleanupAll();
    process.exit(1);
  },
);
