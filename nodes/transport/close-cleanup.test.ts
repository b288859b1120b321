import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const fixture = fileURLToPath(new URL('./fixtures/close-and-exit.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

t.test('close() leaves no socket, server or timer behind: the process exits by itself', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 30_000)));
  t.teardown(() => {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const outcome = await Promise.race([exited, hung]);
  t.not(outcome, 'hung', 'the child exited without process.exit()');
  t.equal(outcome, 0, `exit code 0 (stderr: ${stderr.trim()})`);
  const report = JSON.parse(stdout.trim()) as { delivered: number; leftovers: string[] };
  t.equal(report.delivered, 200, 'the transports did carry traffic first');
  t.same(report.leftovers, [], 'no active TCP handles, timers or immediates after close()');
});
