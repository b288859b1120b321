import { mkdir, open, readdir } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';

/**
 * `mkdir -p` that survives a power failure. A new directory entry is durable only once the
 * directory holding it is fsync'ed (POSIX fsync(2); Linux's fsync(2) man page: "calling fsync()
 * does not necessarily ensure that the entry in the directory containing the file has also
 * reached disk. For that an explicit fsync() on a file descriptor for the directory is also
 * needed"). LevelDB fsyncs the data directory for the files it creates in it (its MANIFEST sync),
 * never the directory's own parent: without this, a replica whose data directory was created
 * since the last fsync of its parent loses the whole directory, votes and log included, when the
 * power fails. Every directory this call creates is fsync'ed into its parent; when none is new,
 * the last one's parent still is, because an earlier start may have created it and crashed before
 * it became durable.
 */
export async function makeDurableDir(dir: string): Promise<void> {
  const target = resolve(dir);
  const first = await mkdir(target, { recursive: true });
  const created = first === undefined ? [target] : chain(resolve(first), target);
  for (const d of created) await fsyncDir(dirname(d));
}

/**
 * Call after opening a LevelDB database in `dir`: makes what the open did durable. classic-level
 * bundles LevelDB 1.20 (deps/leveldb/leveldb-1.20). Creating a database writes MANIFEST-000001
 * without syncing it (DBImpl::NewDB; later LevelDB releases sync it), and every open ends by
 * renaming a new CURRENT into place (SetCurrentFile) with no fsync of the directory. After a power
 * failure the old CURRENT is back; for a new database it names the never-synced, empty
 * MANIFEST-000001, and the database no longer opens ("Corruption: no meta-nextfile entry in
 * descriptor"): the replica cannot start at all. One fsync of the directory makes the new CURRENT
 * (and the deletion of the old MANIFEST) durable. harness/lazyfs/lazyfs.test.ts shows both.
 */
export async function durableAfterOpen(dir: string): Promise<void> {
  await fsyncDir(dir);
}

/**
 * Makes a new LevelDB write-ahead log durable before a write in it is acknowledged. LevelDB 1.20
 * starts a new log (NNNNNN.log) whenever its memtable is full (DBImpl::MakeRoomForWrite, every
 * 4 MiB by default) and a synced write then fsyncs that file, never the directory naming it. The
 * directory is fsynced only when the next MANIFEST is synced (SyncDirIfManifest), after the full
 * memtable was written out as a table in the background. A power failure in between takes the new
 * log's directory entry, and with it every write acknowledged since the switch: recovery reads
 * the logs the directory still lists. So after each synced write the store asks this watch, which
 * lists the directory (a cheap readdir) and fsyncs it when the newest log is not the one it made
 * durable last. harness/lazyfs/lazyfs.test.ts shows the loss and the fix.
 */
export class LogSwitchWatch {
  private durableLog = -1;

  private constructor(private readonly dir: string) {}

  /** Call right after the database opened and durableAfterOpen: its current log is durable. */
  static async open(dir: string): Promise<LogSwitchWatch> {
    const watch = new LogSwitchWatch(dir);
    watch.durableLog = await watch.newestLog();
    return watch;
  }

  /** After a synced write, before it is acknowledged. */
  async afterSyncedWrite(): Promise<void> {
    const newest = await this.newestLog();
    if (newest === this.durableLog) return;
    await fsyncDir(this.dir);
    this.durableLog = newest;
  }

  private async newestLog(): Promise<number> {
    let newest = -1;
    for (const name of await readdir(this.dir)) {
      const m = /^(\d+)\.log$/.exec(name);
      if (m !== null) newest = Math.max(newest, Number(m[1]));
    }
    return newest;
  }
}

/** fsync(2) of a directory, which makes its entries (created, renamed, removed) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `from`, then each directory below it down to `to` (from is an ancestor of to, or to itself). */
function chain(from: string, to: string): string[] {
  const rest = relative(from, to);
  const out = [from];
  if (rest === '') return out;
  let at = from;
  for (const part of rest.split(sep)) {
    at = resolve(at, part);
    out.push(at);
  }
  return out;
}
