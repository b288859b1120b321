/**
 * The replica bundle (replica-build.ts) is rebuilt when a source it was built from changes, so
 * the harness never starts an old build. Checked on a made-up two-file "repository".
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { isFresh, replicaNodeArgs } from './replica-build.js';

t.test('the bundle runs the sources, and an edited source is rebuilt before the next start', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cl-replica-build-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'nodes'));
  await writeFile(join(root, 'nodes/main.ts'), "import { word } from './word.js';\nconst n: number = 1;\nconsole.log(word, n);\n");
  await writeFile(join(root, 'nodes/word.ts'), "export const word: string = 'first';\n");
  const run = (args: string[]): string => execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();

  const first = await replicaNodeArgs(root);
  t.equal(first[0], '--enable-source-maps');
  t.equal(run(first), 'first 1', 'the bundle runs what the sources say');
  t.ok(isFresh(root), 'fresh after the build');
  t.same(await replicaNodeArgs(root), first, 'not rebuilt while nothing changed');

  await writeFile(join(root, 'nodes/word.ts'), "export const word: string = 'second!';\n");
  t.notOk(isFresh(root), 'an imported file changed: stale');
  const second = await replicaNodeArgs(root);
  t.not(second[1], first[1], 'a new bundle');
  t.equal(run(second), 'second! 1', 'with the edit');
  const files = await readdir(join(root, 'dist/replica'));
  t.ok(files.includes('current.json') && files.some((f) => f.endsWith('.mjs.map')), 'the record and a source map beside the bundle');
});

t.test('CONSENSUS_LAB_REPLICA_TSX=1 starts replicas through tsx', async (t) => {
  const before = process.env['CONSENSUS_LAB_REPLICA_TSX'];
  process.env['CONSENSUS_LAB_REPLICA_TSX'] = '1';
  t.teardown(() => {
    if (before === undefined) delete process.env['CONSENSUS_LAB_REPLICA_TSX'];
    else process.env['CONSENSUS_LAB_REPLICA_TSX'] = before;
  });
  t.same(await replicaNodeArgs('/repo'), ['--import', 'tsx', '/repo/nodes/main.ts']);
});
