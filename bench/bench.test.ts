/**
 * The benchmark's smoke test (issue 7): quick mode against a 3-node Raft cluster and the hello
 * baseline, checking that results.json has the documented shape and non-zero throughput. It
 * never asserts speed. Everything runs in a child process whose systems die with it; the
 * results go to a temporary directory that is removed, also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { validateResults, type BenchCell } from './results.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

t.test('quick mode: raft (3 nodes) and hello produce well-formed results', { timeout: 90_000 }, async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'consensus-lab-bench-test-'));
  let child: ChildProcess | null = null;
  t.teardown(async () => {
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const hard = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(hard);
    }
    await rm(out, { recursive: true, force: true });
  });

  const args = [
    '--import', 'tsx', join(repoRoot, 'bench/bench-cli.ts'),
    '--quick',
    '--systems', 'raft,hello',
    '--nodes', '3',
    '--workload', 'put,get',
    '--connections', '1,4',
    '--duration', '1',
    '--warmup', '0.2',
    '--keys', '200',
    '--out', out,
  ];
  child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 0, 'bench exits 0', { output });

  const runs = await readdir(out);
  t.equal(runs.length, 1, 'one run directory');
  const dir = join(out, runs[0]!);
  const files = await readdir(dir);
  for (const f of ['results.json', 'run.json', 'report.md', 'report.html']) t.ok(files.includes(f), `${f} written`);

  const results: unknown = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
  t.same(validateResults(results), [], 'results.json has the documented shape');
  const cells = results as BenchCell[];
  for (const system of ['raft', 'hello']) {
    for (const workload of ['put', 'get']) {
      for (const connections of [1, 4]) {
        const cell = cells.find((c) => c.system === system && c.workload === workload && c.connections === connections);
        t.ok(cell, `${system} ${workload} c=${connections} measured`);
        if (cell === undefined) continue;
        t.ok(cell.rps > 0, `${system} ${workload} c=${connections}: rps > 0`);
        t.ok(cell.latencyMs.p50 > 0 && cell.latencyMs.p50 <= cell.latencyMs.p99 && cell.latencyMs.p99 <= cell.latencyMs.max, 'percentiles ordered');
        t.equal(cell.nodes, system === 'raft' ? 3 : 1, 'nodes recorded');
      }
    }
  }
  const raftPut = cells.find((c) => c.system === 'raft' && c.workload === 'put');
  t.ok(raftPut !== undefined && raftPut.entriesPerFsync !== null && raftPut.entriesPerFsync > 0, 'raft entries per fsync from /metrics');
  t.ok(raftPut !== undefined && raftPut.peerMessagesPerRequest !== null && raftPut.peerMessagesPerRequest > 0, 'raft peer messages per request from /metrics');
  t.ok(raftPut !== undefined && raftPut.cpu.systemUserS + raftPut.cpu.systemSysS > 0, 'cluster CPU time measured');
  const html = await readFile(join(dir, 'report.html'), 'utf8');
  t.match(html, /<svg/, 'report.html has inline charts');
  t.notMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'report.html is self-contained');
  const md = await readFile(join(dir, 'report.md'), 'utf8');
  t.match(md, /\| raft \| 3 \| put \| 1 \|/, 'report.md has the raft row');
});
