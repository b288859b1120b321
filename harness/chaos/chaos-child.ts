/**
 * For tests: run `npm run chaos` (the real CLI) in a child process with a temporary store, and
 * read what it wrote (exit code, output, results.json, the history). The child, and with it every
 * replica, namespace and mount it made, and the store are removed in the test's teardown, also
 * when the test fails: SIGINT first (the CLI cleans up), SIGKILL after 10 s.
 */
import type { Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEntry } from './history.js';
import { repoRoot } from '../cluster/cluster.js';

export interface ChaosRun {
  code: number | null;
  stdout: string;
  dir: string;
  // results.json as written (tests read it loosely).
  results: Record<string, any>;
  history: HistoryEntry[];
}

export async function runChaosChild(t: Test, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<ChaosRun> {
  const out = await mkdtemp(join(tmpdir(), 'consensus-lab-chaos-'));
  let child: ChildProcess | null = spawn(process.execPath, ['--import', 'tsx', 'harness/chaos/chaos-cli.ts', ...args, '--out', out], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(async () => {
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      const force = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    }
    await rm(out, { recursive: true, force: true });
  });
  let stdout = '';
  child.stdout?.on('data', (b) => (stdout += b.toString()));
  child.stderr?.on('data', (b) => (stdout += b.toString()));
  const timer = setTimeout(() => child?.kill('SIGINT'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  child = null;
  const dir = join(out, await readlink(join(out, 'latest')).catch(() => 'missing'));
  const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8').catch(() => '{}')) as Record<string, any>;
  const history = (await readFile(join(dir, 'history.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as HistoryEntry);
  return { code, stdout, dir, results, history };
}
