/**
 * The power-loss filesystems mounted on this machine, read from /proc/self/mountinfo (proc(5)),
 * and the cleanup of those a killed harness left behind. Each mount is named
 * `consensus-lab-lazyfs:<run id>:<name>` (its fsname), and a run id starts with the pid of the
 * harness that mounted it: when that process is gone, the mount is stale.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FS_TYPE = 'fuse.lazyfs';
const FS_NAME_PREFIX = 'consensus-lab-lazyfs:';

export interface LazyFsMountEntry {
  mountPoint: string;
  source: string;
  /** The pid of the harness that mounted it (from the run id), or null for a mount not ours. */
  ownerPid: number | null;
}

export function fsName(runId: string, name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(runId) || !/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`run id and name must be plain words: ${runId}, ${name}`);
  return `${FS_NAME_PREFIX}${runId}:${name}`;
}

/** A run id: this process's pid, then something unique to this run. */
export function newRunId(): string {
  return `${process.pid}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** Every power-loss filesystem mounted now (ours or another harness's). */
export async function lazyFsMounts(): Promise<LazyFsMountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out: LazyFsMountEntry[] = [];
  for (const line of text.split('\n')) {
    // "36 35 98:0 /root /mnt/point rw,noatime shared:1 - fuse.lazyfs consensus-lab-lazyfs:... rw,..."
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (sep < 0 || fields[sep + 1] !== FS_TYPE) continue;
    const source = unescape(fields[sep + 2] ?? '');
    const owner = source.startsWith(FS_NAME_PREFIX) ? Number(source.slice(FS_NAME_PREFIX.length).split('-')[0]) : NaN;
    out.push({ mountPoint: unescape(fields[4] ?? ''), source, ownerPid: Number.isInteger(owner) && owner > 0 ? owner : null });
  }
  return out;
}

/** Whether the harness that made the mount is gone (or the mount is not one of ours). */
export function isStale(m: LazyFsMountEntry): boolean {
  if (m.ownerPid === null) return false;
  if (m.ownerPid === process.pid) return false;
  try {
    process.kill(m.ownerPid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Unmount what harnesses killed earlier left mounted; returns those mount points. */
export async function cleanupStaleMounts(): Promise<string[]> {
  const stale = (await lazyFsMounts()).filter(isStale);
  for (const m of stale) await unmountPath(m.mountPoint, { lazy: true });
  return stale.map((m) => m.mountPoint);
}

/**
 * `fusermount3 -u` (the daemon then syncs and exits), or with `lazy`, or when that fails because
 * files are still open, `fusermount3 -u -z`: the mount disappears at once and goes when unused.
 */
export async function unmountPath(mountPoint: string, o: { lazy?: boolean } = {}): Promise<void> {
  if (o.lazy !== true) {
    const ok = await run('fusermount3', ['-u', mountPoint]).then(() => true, () => false);
    if (ok) return;
  }
  await run('fusermount3', ['-u', '-z', mountPoint]).catch(async (err: Error & { stderr?: string }) => {
    // Already gone (e.g. the daemon unmounted itself): fine; anything else is worth telling.
    if (!(await lazyFsMounts()).some((m) => m.mountPoint === mountPoint)) return;
    throw new Error(`cannot unmount ${mountPoint}: ${err.stderr?.trim() || err.message}`);
  });
}

/** mountinfo escapes blanks, tabs, newlines and backslashes as octal (\040 ...). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
