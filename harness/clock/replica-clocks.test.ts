/**
 * The faked clocks are real: a process started under libfaketime with its own clock file (the
 * probe in fixtures/) sees its wall clock (Date.now) and its monotonic clock (performance.now,
 * setTimeout) slow down, jump and strobe while it runs, and never step back on a rate change;
 * a second process under libfaketime with a clock left alone, and this test process, keep the
 * true time. A replica started by Cluster with the `clocks` option has libfaketime loaded; the
 * harness does not. Every process and temporary directory is removed in teardown.
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { until } from '../client/kv-client.js';
import { Cluster, repoRoot } from '../cluster/cluster.js';
import { ReplicaClocks } from './replica-clocks.js';
import { needFaketime } from './test-support.js';

interface Reading {
  date: number;
  perf: number;
  backDateMs: number;
  backPerfMs: number;
  intervalRuns: number;
}

/** A probe process with its stdin/stdout line protocol (fixtures/clock-probe.ts). */
class Probe {
  private readonly waiting: Array<(line: Record<string, unknown>) => void> = [];
  private readonly timeouts = new Map<number, () => void>();

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (typeof msg['timeout'] === 'number') this.timeouts.get(msg['timeout'])?.();
      else this.waiting.shift()?.(msg);
    });
  }

  read(): Promise<Reading> {
    return new Promise((resolve) => {
      this.waiting.push((msg) => resolve(msg as unknown as Reading));
      this.child.stdin!.write('read\n');
    });
  }

  /** Real milliseconds until the probe's setTimeout(ms) fired. */
  timeout(ms: number): Promise<number> {
    const started = performance.now();
    return new Promise((resolve) => {
      this.timeouts.set(ms, () => resolve(performance.now() - started));
      this.child.stdin!.write(`timeout ${ms}\n`);
    });
  }
}

/** A probe with the clock of `id`; on exit, what libfaketime left in /dev/shm is removed. */
async function startProbe(t: Test, clocks: ReplicaClocks, id: string): Promise<Probe> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'harness/clock/fixtures/clock-probe.ts'], { cwd: repoRoot, env: clocks.launchEnv(id, process.env), stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit').then(() => clocks.exited(child.pid!));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const probe = new Probe(child);
  await until(() => probe.read(), () => true, 20_000, 'the probe answers');
  return probe;
}

/** Real and probe time elapsed over a stretch of at least `ms` real milliseconds. */
async function elapsed(probe: Probe, ms: number): Promise<{ real: number; date: number; perf: number; back: Reading }> {
  const a = await probe.read();
  const realA = Date.now();
  await until(async () => Date.now() - realA, (d) => d >= ms, ms + 5000, `${ms} ms pass`);
  const b = await probe.read();
  return { real: Date.now() - realA, date: b.date - a.date, perf: b.perf - a.perf, back: b };
}

t.test('one process’s clocks run slow, jump and strobe while it runs; the others keep the true time', async (t) => {
  if (!needFaketime(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'consensus-lab-clocks-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clocks = await ReplicaClocks.create(dir, ['a', 'b']);
  t.teardown(() => clocks.close());
  const [a, b] = await Promise.all([startProbe(t, clocks, 'a'), startProbe(t, clocks, 'b')]);
  // Both start at the true time (give or take the time a reading takes to come back).
  for (const [name, probe] of [['a', a], ['b', b]] as const) {
    const r = await probe.read();
    t.ok(Math.abs(r.date - Date.now()) < 250, `${name} starts at the true time (${r.date - Date.now()} ms off)`);
  }

  await clocks.setRate('a', 0.25);
  const slowTimer = a.timeout(200);
  const slow = await elapsed(a, 1000);
  const other = await elapsed(b, 300);
  t.ok(slow.date > 0.1 * slow.real && slow.date < 0.45 * slow.real, `a's Date.now() ran at x0.25: ${slow.date} ms in ${slow.real} real`);
  t.ok(slow.perf > 0.1 * slow.real && slow.perf < 0.45 * slow.real, `a's performance.now() ran at x0.25: ${slow.perf.toFixed(0)} ms in ${slow.real} real`);
  t.ok(other.date > 0.8 * other.real && other.date < 1.3 * other.real + 20, `b's clock ran at the true rate: ${other.date} ms in ${other.real} real`);
  const timerReal = await slowTimer;
  t.ok(timerReal > 600, `a's setTimeout(200) fired after ${timerReal.toFixed(0)} ms of real time (x0.25: 800)`);
  t.ok(slow.back.backPerfMs < 1 && slow.back.backDateMs <= 1, `a's clocks never went back on the rate change (${slow.back.backPerfMs.toFixed(3)} ms, ${slow.back.backDateMs} ms)`);
  t.match(await readFile(clocks.file('a'), 'utf8'), /^@\d+\.\d{6} x0\.25\n$/, 'the clock file holds a start-at setting and the rate');

  await clocks.reset('a');
  t.ok(Math.abs((await a.read()).date - Date.now()) < 250, 'reset: a jumped forward to the true time');

  // A step back moves the monotonic clock back too (libfaketime has one offset for all clocks).
  // Node survives it: I/O callbacks see performance.now() go back, a timer set afterwards fires on
  // time, and timers set before wait until the clock is back where it was.
  await a.read();
  await clocks.step('a', -1000);
  const steppedAt = performance.now();
  const back = await a.read();
  t.ok(back.date < Date.now() - 800, `a's wall clock is 1 s behind (${back.date - Date.now()} ms)`);
  t.ok(back.backPerfMs > 800, `an I/O callback saw performance.now() go back ${back.backPerfMs.toFixed(0)} ms`);
  const fresh = await a.timeout(20);
  t.ok(fresh < 500, `a setTimeout(20) set after the step fired after ${fresh.toFixed(0)} ms`);
  const resumed = await until(() => a.read(), (r) => r.intervalRuns > back.intervalRuns, 10_000, 'the setInterval runs again');
  const stalled = performance.now() - steppedAt;
  t.ok(stalled > 500, `the setInterval(5) set before the step stalled for ${stalled.toFixed(0)} ms (${resumed.intervalRuns - back.intervalRuns} runs since)`);
  await clocks.reset('a');

  // Fast for a while: x4 for 250 ms gains 750 ms, then the true rate, that far ahead.
  await clocks.setRate('a', 4, 250);
  const fastAt = Date.now();
  await until(async () => Date.now() - fastAt, (d) => d >= 600, 5000, '600 ms pass');
  const ahead = await a.read();
  t.ok(ahead.date - Date.now() > 500 && ahead.date - Date.now() < 1100, `a gained ${ahead.date - Date.now()} ms at x4 for 250 ms`);
  const after250 = await elapsed(a, 300);
  t.ok(after250.date > 0.8 * after250.real && after250.date < 1.3 * after250.real + 20, `then ran at the true rate: ${after250.date} ms in ${after250.real} real`);

  const before = await a.read();
  await clocks.step('a', 5000);
  const after = await a.read();
  t.ok(after.date - before.date > 4900 && after.perf - before.perf > 4900, `a's wall and monotonic clocks jumped 5 s (${after.date - before.date}, ${(after.perf - before.perf).toFixed(0)} ms)`);
  t.ok(Math.abs((await b.read()).date - Date.now()) < 250, 'b did not jump');

  await clocks.strobe('a', 400, 40);
  const offsets: number[] = [];
  await until(
    async () => {
      const r = await a.read();
      offsets.push(r.date - Date.now());
      return offsets;
    },
    (o) => o.some((x) => x > 250) && o.some((x) => x < 150),
    10_000,
    'a strobing between 400 ms ahead and the true time',
  );
  t.pass(`a strobed: offsets ${offsets.map((o) => o.toFixed(0)).join(', ')} ms`);

  await clocks.reset('a');
  await until(() => a.read(), (r) => Math.abs(r.date - Date.now()) < 250, 5000, 'a back at the true time');
  t.match(await readFile(clocks.file('a'), 'utf8'), /^\+0 x1\n$/, 'the true clock is "+0 x1"');
});

t.test('Cluster with `clocks` starts its replicas under libfaketime, and only them', async (t) => {
  if (!needFaketime(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'consensus-lab-clocks-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clocks = await ReplicaClocks.create(dir, ['n1']);
  t.teardown(() => clocks.close());
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 1, logLevel: 'warn', clocks });
  t.teardown(() => cluster.stopAll());
  const pid = cluster.replica('n1').process?.pid;
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8');
  t.match(maps, /libfaketimeMT\.so/, 'the replica has libfaketime loaded');
  const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
  t.ok(environ.includes(`FAKETIME_TIMESTAMP_FILE=${clocks.file('n1')}`), 'and reads its own clock file');
  t.notMatch(await readFile('/proc/self/maps', 'utf8'), /libfaketime/, 'the harness does not');
  // A replica whose clock jumps keeps serving.
  await clocks.step('n1', 3000);
  await until(() => cluster.waitForLeader(2000), (leader) => leader === 'n1', 20_000, 'n1 leads');
  await clocks.reset('n1');
  t.equal(await cluster.waitForLeader(20_000), 'n1', 'and after the reset');
});
