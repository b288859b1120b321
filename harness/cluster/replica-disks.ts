/**
 * Every replica's data directory on a power-loss filesystem of its own (harness/lazyfs), for
 * `ClusterOptions.lazyfs`. Replica n1's disk is `<dataRoot>/lazyfs/n1/`: `disk/` holds what is
 * durable, `mnt/` is the mount, and the replica's data directory is `mnt/data`, which the replica
 * creates itself (so that the creation of its data directory is part of what must be durable).
 * A power loss of n1 discards every write of n1 that was not yet durable; the other replicas'
 * disks are untouched. Mounts are named with a run id (mounts.ts), so that a later start cleans
 * up what a killed run left mounted.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLazyFs } from '../lazyfs/build.js';
import { LazyFs, lazyFsLayout, type LazyFsStats, type PowerLossResult } from '../lazyfs/lazyfs.js';
import { cleanupStaleMounts, newRunId } from '../lazyfs/mounts.js';

export interface ReplicaDisksOptions {
  /** Bound on each disk's unsynced data (default 64 MiB). */
  maxDirtyBytes?: number;
  /** Messages of a disk's daemon (only when something failed). */
  onLog?: (id: string, line: string) => void;
}

export class ReplicaDisks {
  readonly runId = newRunId();
  private readonly disks = new Map<string, LazyFs>();

  private constructor(
    private readonly root: string,
    private readonly o: ReplicaDisksOptions,
  ) {}

  /** Builds the filesystem if needed and removes stale mounts; throws when FUSE is unavailable. */
  static async prepare(dataRoot: string, o: ReplicaDisksOptions = {}): Promise<ReplicaDisks> {
    await ensureLazyFs();
    await cleanupStaleMounts();
    return new ReplicaDisks(join(dataRoot, 'lazyfs'), o);
  }

  /** The replica's data directory, on its disk. */
  dataDir(id: string): string {
    return join(this.root, id, 'mnt', 'data');
  }

  has(id: string): boolean {
    return this.disks.has(id);
  }

  /** Mount replica `id`'s disk (again after unmountAll: the durable contents stay in disk/). */
  async mount(id: string): Promise<void> {
    if (this.disks.get(id)?.mounted === true) return;
    const fs = await LazyFs.mount({
      ...lazyFsLayout(join(this.root, id), this.runId, id),
      ...(this.o.maxDirtyBytes === undefined ? {} : { maxDirtyBytes: this.o.maxDirtyBytes }),
      onLog: (line) => this.o.onLog?.(id, line),
    });
    this.disks.set(id, fs);
  }

  /** The power goes out on `id`'s disk (its process must be stopped first). */
  powerLoss(id: string): Promise<PowerLossResult> {
    return this.disk(id).powerLoss();
  }

  stats(id: string): Promise<LazyFsStats> {
    return this.disk(id).stats();
  }

  /**
   * An empty data directory, as on a new disk, durably: everything in it is removed and the disk
   * synced, so that a later power loss cannot bring the old contents back.
   */
  async wipe(id: string): Promise<void> {
    const mnt = this.disk(id).mountPoint;
    for (const entry of await readdir(mnt)) await rm(join(mnt, entry), { recursive: true, force: true });
    await this.disk(id).sync();
  }

  /** Unmount every disk (a clean unmount keeps everything written, as a clean shutdown does). */
  async unmountAll(): Promise<void> {
    await Promise.all([...this.disks.values()].map((d) => d.unmount().catch(() => undefined)));
  }

  private disk(id: string): LazyFs {
    const d = this.disks.get(id);
    if (d === undefined || !d.mounted) throw new Error(`${id} has no mounted power-loss filesystem`);
    return d;
  }
}
