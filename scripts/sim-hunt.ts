/**
 * `npm run sim:hunt -- --minutes 30`: hunt for bugs with seeds no run has tried before. Runs the
 * Raft and Multi-Paxos simulations with 3 and 5 replicas and the PBFT one with 4 and 7, on every
 * core (one worker process each), for the given time; prints each failure as it happens, with the
 * command that replays it, and at the end the seeds run per protocol and size.
 *
 * Its options are in USAGE below (`npm run sim:hunt -- --help`).
 *
 * Exit code 0 when no seed failed, 1 otherwise.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HUNT_CONFIGS, type HuntConfig, type HuntJob, type HuntReport } from './sim-hunt-types.js';

interface Failure {
  protocol: string;
  nodes: number;
  seed: number;
  message: string;
}

const USAGE = `usage: npm run sim:hunt -- [--minutes N] [--from SEED] [--workers N] [--only raft,multipaxos,pbft] [--out FILE]
  --minutes N   how long to hunt (default 10; fractions allowed)
  --from SEED   first seed (default: a random one); worker i runs from + i, from + i + workers, ...
  --workers N   worker processes (default: the number of cores)
  --only LIST   protocols to hunt (default: all three)
  --out FILE    also write the summary as JSON`;

function readArgs() {
  try {
    return parseArgs({
      options: {
        minutes: { type: 'string', default: '10' },
        from: { type: 'string' },
        workers: { type: 'string' },
        only: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // An unknown or malformed option: say which, and how to call it, not a stack trace.
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(64);
  }
}

const { values } = readArgs();
if (values.help === true) {
  console.log(USAGE);
  process.exit(0);
}

function positive(name: string, text: string, integer: boolean): number {
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isSafeInteger(value))) {
    console.error(`--${name} needs a positive ${integer ? 'integer' : 'number'}, not ${JSON.stringify(text)}`);
    process.exit(64);
  }
  return value;
}

const minutes = positive('minutes', values.minutes, false);
const workers = values.workers === undefined ? availableParallelism() : positive('workers', values.workers, true);
const from = values.from === undefined ? randomInt(10_000_000, 2_000_000_000) : positive('from', values.from, true);
const only = values.only?.split(',').map((p) => p.trim());
const configs = HUNT_CONFIGS.filter((c) => only === undefined || only.includes(c.protocol));
if (configs.length === 0) {
  console.error(`--only names no protocol of ${[...new Set(HUNT_CONFIGS.map((c) => c.protocol))].join(', ')}`);
  process.exit(64);
}

const label = (c: HuntConfig): string => `${c.protocol}/${c.nodes}`;
const counts = Array.from({ length: workers }, () => configs.map(() => 0));
const failures: Failure[] = [];
const started = Date.now();
const deadlineMs = started + minutes * 60_000;

function totals(): number[] {
  return configs.map((_, c) => counts.reduce((sum, worker) => sum + (worker[c] ?? 0), 0));
}

function progressLine(): string {
  const elapsed = ((Date.now() - started) / 60_000).toFixed(1);
  const parts = totals().map((n, c) => `${label(configs[c] as HuntConfig)} ${n}`);
  return `[${elapsed} min] ${parts.join(', ')}; ${failures.length} failed`;
}

function summary(): void {
  const seeds = totals();
  console.log(`\nsim:hunt summary: ${((Date.now() - started) / 60_000).toFixed(1)} min on ${workers} workers, seeds from ${from} (stride ${workers})`);
  console.log('| protocol | replicas | seeds | failures |');
  console.log('| --- | --- | --- | --- |');
  configs.forEach((c, k) => {
    const failed = failures.filter((f) => f.protocol === c.protocol && f.nodes === c.nodes).length;
    console.log(`| ${c.protocol} | ${c.nodes} | ${seeds[k]} | ${failed} |`);
  });
  console.log(`${seeds.reduce((a, b) => a + b, 0)} runs, ${failures.length} failures`);
  if (values.out !== undefined) {
    const perConfig = configs.map((c, k) => ({ ...c, seeds: seeds[k] }));
    writeFileSync(values.out, `${JSON.stringify({ from, stride: workers, minutes, perConfig, failures }, null, 2)}\n`);
  }
}

function onReport(worker: number, report: HuntReport): void {
  if (report.type === 'progress') counts[worker] = report.counts;
  if (report.type !== 'failure') return;
  failures.push({ protocol: report.config.protocol, nodes: report.config.nodes, seed: report.seed, message: report.message });
  console.log(`FAIL ${label(report.config)} seed ${report.seed}: ${report.message}`);
}

console.log(`sim:hunt: ${minutes} min on ${workers} workers, seeds from ${from}; ${configs.map(label).join(', ')}`);
const children: ChildProcess[] = [];
const worker = fileURLToPath(new URL('./sim-hunt-worker.ts', import.meta.url));
let running = workers;
const ticker = setInterval(() => console.log(progressLine()), 60_000);

for (let index = 0; index < workers; index++) {
  const child = fork(worker, [], { execArgv: ['--import', 'tsx'] });
  children.push(child);
  child.on('message', (report: HuntReport) => onReport(index, report));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) failures.push({ protocol: 'worker', nodes: 0, seed: 0, message: `worker ${index} exited with code ${code}` });
    if (--running === 0) {
      clearInterval(ticker);
      summary();
      process.exitCode = failures.length > 0 ? 1 : 0;
    }
  });
  const job: HuntJob = { from, index, stride: workers, deadlineMs, configs };
  child.send(job);
}

process.on('SIGINT', () => {
  // Stop the workers; each one's exit prints the summary once the last has gone.
  for (const child of children) child.kill('SIGTERM');
});
