/**
 * One mounted power-loss filesystem (README.md in this folder): mount it over a directory, make it
 * lose power (every write not yet durable is discarded), read its counters, sync it, unmount it.
 * The daemon is this process's child, in its own process group (a Ctrl-C in the terminal must
 * not unmount a disk under replicas that are still shutting down), and it unmounts itself if
 * this process dies (--parent-pid). On a normal exit without unmount it gets SIGTERM, which
 * unmounts too; a harness killed outright leaves at most a stale mount that
 * cleanupStaleMounts() removes on the next start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureLazyFs } from './build.js';
import { fsName, isStale, lazyFsMounts, unmountPath } from './mounts.js';

export interface LazyFsOptions {
  /** Where the filesystem appears (created when missing). */
  mountPoint: string;
  /** The directory below: what survives a power loss. Created when missing, kept after unmount. */
  underDir: string;
  /** Removed entries until their removal is durable; on the same filesystem as underDir. */
  trashDir: string;
  /** The control socket. */
  controlPath: string;
  /** With `name`, names the mount in /proc/self/mountinfo (mounts.ts). */
  runId: string;
  name: string;
  /** Bound on unsynced file data; past it the oldest files are written back (default 64 MiB). */
  maxDirtyBytes?: number;
  /** The daemon's messages (it only speaks when something failed). */
  onLog?: (line: string) => void;
}

export interface LazyFsStats {
  /** Bytes held in dirty pages (4 KiB each). */
  dirtyBytes: number;
  dirtyFiles: number;
  /** Namespace changes not yet durable (their directory not fsync'ed since). */
  pendingOps: number;
  maxDirtyBytes: number;
  fsyncs: number;
  dirFsyncs: number;
  /** Files written back because the dirty bytes passed the bound, and their bytes. */
  writebacks: number;
  writebackBytes: number;
  powerLosses: number;
  forcedCommits: number;
}

export interface PowerLossResult {
  /** Dirty pages discarded (bytes, in 4 KiB pages) and the files they belonged to. */
  droppedBytes: number;
  droppedFiles: number;
  /** Namespace changes undone, and undos that failed (also logged by the daemon). */
  undoneOps: number;
  undoErrors: number;
}

/** "12 KiB of unsynced data in 3 files and 2 unsynced namespace changes discarded" */
export function describePowerLoss(l: PowerLossResult): string {
  const failed = l.undoErrors > 0 ? ` (${l.undoErrors} could not be undone: see the log)` : '';
  return `${(l.droppedBytes / 1024).toFixed(0)} KiB of unsynced data in ${l.droppedFiles} files and ${l.undoneOps} unsynced namespace changes discarded${failed}`;
}

export interface SyncResult {
  flushedBytes: number;
  flushedFiles: number;
  committedOps: number;
}

/** Longest UNIX socket path Linux takes (sun_path is 108 bytes with its terminating NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * The layout the harness uses under one state directory: `disk/` (the durable contents), `trash/`,
 * `mnt/` (the mount point) and `control.sock` (in the temporary directory when the path is too
 * long for a socket).
 */
export function lazyFsLayout(stateDir: string, runId: string, name: string): LazyFsOptions {
  const dir = resolve(stateDir);
  const socket = join(dir, 'control.sock');
  return {
    mountPoint: join(dir, 'mnt'),
    underDir: join(dir, 'disk'),
    trashDir: join(dir, 'trash'),
    controlPath: Buffer.byteLength(socket) <= MAX_SOCKET_PATH ? socket : join(tmpdir(), `cl-lazyfs-${runId}-${name}.sock`),
    runId,
    name,
  };
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export class LazyFs {
  private exited = false;
  private readonly exitedPromise: Promise<void>;

  private constructor(
    readonly options: LazyFsOptions,
    private readonly child: ChildProcess,
  ) {
    this.exitedPromise = new Promise((resolve) =>
      child.once('exit', () => {
        this.exited = true;
        live.delete(child);
        resolve();
      }),
    );
  }

  /** Mount (building the binary first if needed); resolves once the mount is in place. */
  static async mount(o: LazyFsOptions): Promise<LazyFs> {
    const binary = await ensureLazyFs();
    await Promise.all([o.mountPoint, o.underDir, o.trashDir].map((d) => mkdir(d, { recursive: true })));
    const already = (await lazyFsMounts()).find((m) => m.mountPoint === resolve(o.mountPoint));
    if (already !== undefined) {
      if (!isStale(already)) throw new Error(`${o.mountPoint} is already a power-loss filesystem (${already.source}), in use by process ${already.ownerPid}`);
      await unmountPath(already.mountPoint, { lazy: true });
    }
    const args = [
      resolve(o.mountPoint),
      `--under=${resolve(o.underDir)}`,
      `--trash=${resolve(o.trashDir)}`,
      `--control=${o.controlPath}`,
      `--parent-pid=${process.pid}`,
      ...(o.maxDirtyBytes === undefined ? [] : [`--max-dirty=${Math.floor(o.maxDirtyBytes)}`]),
      '-o', `fsname=${fsName(o.runId, o.name)},subtype=lazyfs`,
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    installExitHook();
    live.add(child);
    const fs = new LazyFs(o, child);
    const errors: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      errors.push(line);
      o.onLog?.(line);
    });
    let spawnError: Error | null = null;
    const ready = new Promise<boolean>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => line === 'ready' && resolve(true));
      child.once('exit', () => resolve(false));
      child.once('error', (err) => {
        spawnError = err; // no 'exit' follows a failed spawn
        live.delete(child);
        resolve(false);
      });
    });
    const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const ok = await ready;
    if (!ok) {
      if (spawnError === null) await fs.exitedPromise;
      clearTimeout(timeout);
      const why = spawnError === null ? errors.join(' / ') || 'the daemon exited' : (spawnError as Error).message;
      throw new Error(`mounting the power-loss filesystem on ${o.mountPoint} failed: ${why}`);
    }
    clearTimeout(timeout);
    (child.stdout as { unref?: () => void } | null)?.unref?.();
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    child.unref();
    return fs;
  }

  get mountPoint(): string {
    return this.options.mountPoint;
  }

  /** Whether the daemon still serves the mount. */
  get mounted(): boolean {
    return !this.exited;
  }

  /**
   * Power failure: discard every write not yet durable (dirty pages; namespace changes whose
   * directory was not fsync'ed since) and answer once the disk holds exactly what survived. Stop
   * the processes using the mount first: a power failure stops them too.
   */
  async powerLoss(): Promise<PowerLossResult> {
    return (await this.command('power-loss')) as unknown as PowerLossResult;
  }

  async stats(): Promise<LazyFsStats> {
    return (await this.command('stats')) as unknown as LazyFsStats;
  }

  /** Make everything durable, as sync(1) would. */
  async sync(): Promise<SyncResult> {
    return (await this.command('sync')) as unknown as SyncResult;
  }

  /** Unmount (a clean unmount keeps everything written) and wait for the daemon to exit. */
  async unmount(): Promise<void> {
    if (!this.exited) {
      this.child.ref(); // wait for its exit even if nothing else keeps this process alive
      // Durable first: a mount still busy is detached lazily, and a daemon that then does not exit
      // in time is killed below, which must not lose what was written.
      await this.command('sync').catch(() => undefined);
      await unmountPath(this.mountPoint).catch(() => undefined);
      const force = setTimeout(() => this.child.kill('SIGKILL'), 10_000); // a daemon that hangs
      await this.exitedPromise;
      clearTimeout(force);
    }
    // A daemon that died on its own leaves a dead mount ("transport endpoint is not connected").
    if ((await lazyFsMounts()).some((m) => m.mountPoint === resolve(this.mountPoint))) await unmountPath(this.mountPoint, { lazy: true });
  }

  /** One command over the control socket; its JSON answer, or an error. */
  async command(cmd: 'power-loss' | 'stats' | 'sync' | 'ping'): Promise<Record<string, unknown>> {
    if (this.exited) throw new Error(`the power-loss filesystem on ${this.mountPoint} is not running`);
    const socket = createConnection(this.options.controlPath);
    socket.setTimeout(30_000, () => socket.destroy(new Error(`${cmd}: no answer from the power-loss filesystem in 30 s`)));
    let text = '';
    socket.on('data', (b: Buffer) => (text += b.toString()));
    socket.end(`${cmd}\n`);
    await once(socket, 'close');
    const answer = JSON.parse(text.trim() || '{}') as Record<string, unknown>;
    if (answer['ok'] !== true) throw new Error(`${cmd} on ${this.mountPoint}: ${String(answer['error'] ?? `no answer (${text.trim() || 'empty'})`)}`);
    return answer;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous, as 'exit' handlers must be: SIGTERM makes each daemon sync and unmount itself.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGTERM');
  });
}
