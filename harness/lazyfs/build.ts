/**
 * Builds the power-loss filesystem (src/*.c, on libfuse 3) the first time the harness needs it,
 * into harness/lazyfs/build/ (ignored by git), and again whenever a source file is newer than the
 * binary. It is not built by `npm install`: CI runs `npm ci` before it installs the Debian
 * packages (.ci/run). Everything it needs, and everything a mount needs, is checked first, so that
 * a machine without FUSE gets one clear error naming what to install, never a silent skip.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const lazyFsDir = dirname(fileURLToPath(import.meta.url));
const sourceDir = join(lazyFsDir, 'src');
const buildDir = join(lazyFsDir, 'build');
export const lazyFsBinary = join(buildDir, 'lazyfs');

/** The machine cannot run the power-loss filesystem; the message says what is missing. */
export class LazyFsUnavailable extends Error {}

/** What the checks look at; tests replace parts of it. */
export interface Environment {
  platform: string;
  uid: number | null;
  fuseDevice: string;
  path: string;
}

const here = (): Environment => ({
  platform: process.platform,
  uid: process.getuid?.() ?? null,
  fuseDevice: '/dev/fuse',
  path: process.env['PATH'] ?? '',
});

/** What a mount needs that this machine lacks, one sentence each (empty: nothing). */
export async function missingToMount(env: Environment = here()): Promise<string[]> {
  if (env.platform !== 'linux') return [`FUSE mounts need Linux (this is ${env.platform})`];
  const missing: string[] = [];
  if (env.uid !== 0) missing.push('mounting needs root (the harness mounts one filesystem per replica)');
  if (!(await exists(env.fuseDevice))) missing.push(`${env.fuseDevice} is missing (load the fuse module, or give the container the device)`);
  if ((await which('fusermount3', env.path)) === null) missing.push('fusermount3 is missing (Debian package fuse3)');
  return missing;
}

/** What building needs that this machine lacks (empty: nothing). */
export async function missingToBuild(env: Environment = here()): Promise<string[]> {
  const missing: string[] = [];
  if ((await which('gcc', env.path)) === null) missing.push('gcc is missing (Debian package gcc)');
  if ((await which('pkg-config', env.path)) === null) missing.push('pkg-config is missing (Debian package pkg-config)');
  else if (!(await run('pkg-config', ['--exists', 'fuse3']).then(() => true, () => false))) missing.push('the fuse3 headers are missing (Debian package libfuse3-dev)');
  return missing;
}

let built: Promise<string> | null = null;

/**
 * The path of an up-to-date binary, built if needed, once per process. Throws LazyFsUnavailable
 * when the machine cannot build or mount it.
 */
export function ensureLazyFs(): Promise<string> {
  built ??= prepare().catch((err: unknown) => {
    built = null;
    throw err;
  });
  return built;
}

async function prepare(): Promise<string> {
  const cannotMount = await missingToMount();
  if (cannotMount.length > 0) throw unavailable(cannotMount);
  const sources = (await readdir(sourceDir)).filter((f) => f.endsWith('.c') || f.endsWith('.h'));
  const newest = Math.max(...(await Promise.all(sources.map(async (f) => (await stat(join(sourceDir, f))).mtimeMs))));
  const binary = await stat(lazyFsBinary).catch(() => null);
  if (binary !== null && binary.mtimeMs >= newest) return lazyFsBinary;
  const cannotBuild = await missingToBuild();
  if (cannotBuild.length > 0) throw unavailable(cannotBuild);
  await mkdir(buildDir, { recursive: true });
  const flags = (await run('pkg-config', ['--cflags', '--libs', 'fuse3'])).stdout.trim().split(/\s+/);
  // Build beside the binary, then rename: test files built in parallel never see half a binary.
  const tmp = join(buildDir, `lazyfs.${process.pid}.${Date.now()}.tmp`);
  const cFiles = sources.filter((f) => f.endsWith('.c')).map((f) => join(sourceDir, f));
  try {
    await run('gcc', ['-std=gnu11', '-O2', '-g', '-Wall', '-Wextra', '-o', tmp, ...cFiles, ...flags]);
    await rename(tmp, lazyFsBinary);
  } catch (err) {
    await rm(tmp, { force: true });
    const e = err as Error & { stderr?: string };
    throw new Error(`building harness/lazyfs failed: ${e.stderr?.trim() || e.message}`);
  }
  return lazyFsBinary;
}

function unavailable(missing: string[]): LazyFsUnavailable {
  return new LazyFsUnavailable(
    `the power-loss filesystem (harness/lazyfs) cannot run here: ${missing.join('; ')}. ` +
      'On Debian, as root: apt-get install fuse3 libfuse3-dev pkg-config gcc',
  );
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(() => true, () => false);
}

async function which(command: string, path: string): Promise<string | null> {
  for (const dir of path.split(delimiter).filter((d) => d !== '')) {
    const candidate = join(dir, command);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return null;
}
