/**
 * How the harness starts a replica process: from one JavaScript file that esbuild bundles from
 * nodes/main.ts, rebuilt whenever a source file it was built from changes.
 *
 * Why not `node --import tsx nodes/main.ts`, which works too: tsx compiles every module at every
 * start. Measured on this 2-core machine, a replica took 1.5 s to start that way and 0.4 s from
 * the bundle, and it holds less memory (no compiler loaded). The test suite starts hundreds of
 * replicas; a chaos run restarts them all the time.
 *
 * The bundle keeps every npm package external (they load from node_modules as usual) and has a
 * source map beside it, so stack traces name the .ts files (`--enable-source-maps`). It is
 * rebuilt when any input esbuild read (its metafile) has another mtime or size than at the last
 * build, so an edited source is always what runs. Two processes that find it stale at the same
 * time each build their own file; the record of the current one is replaced atomically.
 *
 * `CONSENSUS_LAB_REPLICA_TSX=1` starts replicas through tsx instead.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';

/** The inputs of a bundle, each with the mtime and size it had when the bundle was built. */
interface BuildRecord {
  bundle: string;
  inputs: Record<string, [mtimeMs: number, size: number]>;
}

const RECORD = 'current.json';
/** Bundles older than the current one that are kept (a process may be about to start one). */
const KEEP_OLD = 3;

let building: Promise<void> | null = null;

/** Node's arguments that start nodes/main.ts under repoRoot (then the replica's own flags). */
export async function replicaNodeArgs(repoRoot: string): Promise<string[]> {
  if (process.env['CONSENSUS_LAB_REPLICA_TSX'] === '1') return ['--import', 'tsx', join(repoRoot, 'nodes/main.ts')];
  if (!isFresh(repoRoot)) {
    building ??= buildBundle(repoRoot).finally(() => (building = null));
    await building;
  }
  const record = readRecord(recordPath(repoRoot));
  if (record === null) throw new Error(`replica bundle: ${recordPath(repoRoot)} is missing after a build`);
  return ['--enable-source-maps', join(bundleDir(repoRoot), record.bundle)];
}

function bundleDir(repoRoot: string): string {
  return join(repoRoot, 'dist', 'replica');
}

function recordPath(repoRoot: string): string {
  return join(bundleDir(repoRoot), RECORD);
}

async function buildBundle(repoRoot: string): Promise<void> {
  const dir = bundleDir(repoRoot);
  await mkdir(dir, { recursive: true });
  const bundle = `main-${Date.now()}-${randomBytes(3).toString('hex')}.mjs`;
  const result = await build({
    absWorkingDir: repoRoot, // metafile inputs are then named relative to the root
    entryPoints: ['nodes/main.ts'],
    outfile: join(dir, bundle),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs: BuildRecord['inputs'] = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const s = statSync(join(repoRoot, input));
    inputs[input] = [s.mtimeMs, s.size];
  }
  const tmp = `${recordPath(repoRoot)}.${process.pid}.${randomBytes(3).toString('hex')}`;
  await writeFile(tmp, JSON.stringify({ bundle, inputs } satisfies BuildRecord));
  await rename(tmp, recordPath(repoRoot));
  await removeOldBundles(dir, bundle);
}

function readRecord(file: string): BuildRecord | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BuildRecord;
  } catch {
    return null;
  }
}

/** True when the recorded bundle exists and every input still has its recorded mtime and size. */
export function isFresh(repoRoot: string): boolean {
  const record = readRecord(recordPath(repoRoot));
  if (record === null || !existsSync(join(bundleDir(repoRoot), record.bundle))) return false;
  for (const [path, [mtimeMs, size]] of Object.entries(record.inputs)) {
    try {
      const s = statSync(join(repoRoot, path));
      if (s.mtimeMs !== mtimeMs || s.size !== size) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function removeOldBundles(dir: string, current: string): Promise<void> {
  const old = (await readdir(dir)).filter((f) => /^main-\d+-[0-9a-f]+\.mjs$/.test(f) && f !== current).sort();
  for (const f of old.slice(0, Math.max(0, old.length - KEEP_OLD))) {
    await rm(join(dir, f), { force: true });
    await rm(join(dir, `${f}.map`), { force: true });
  }
}
