/**
 * `npm test` type-checks the whole tree (tsconfig.json, `tsc --noEmit`). As a test file rather than
 * a step before tap, it runs beside the other tests instead of holding up all of them for the half
 * minute it takes; a type error fails it with tsc's own messages.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import t from 'tap';
import { repoRoot } from '../harness/cluster/cluster.js';

t.test('tsc -p tsconfig.json --noEmit finds no type error', { timeout: 240_000 }, async (t) => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit', '--pretty', 'false'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 0, 'tsc exits 0', { output: output.slice(0, 20_000) });
});
