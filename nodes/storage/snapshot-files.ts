/**
 * Where a replica keeps the chunks of its state-machine snapshots: plain files, one per chunk, in
 * one directory per snapshot (`<data-dir>/snapshots/<index>/<chunk>`), beside the LevelDB database
 * that records which snapshot is current. Files and not LevelDB keys: a snapshot of a million keys
 * is hundreds of megabytes written at once, and in LevelDB it would be compacted level after level
 * (written several times over, and deleted the same way), and its compactions would slow the very
 * log writes the replica's latency depends on. etcd keeps its snapshots in files for the same
 * reason.
 *
 * Durability: chunks are written without fsync; `sync` makes a whole snapshot durable (every chunk
 * file, its directory, and the directory holding it: a new file or directory entry survives a
 * power failure only once its directory is fsync'ed), and only then may the store record it as
 * the current snapshot.
 */
import { mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const name = (n: number): string => n.toString(16).padStart(13, '0');

export class SnapshotFiles {
  private synced = false;

  constructor(private readonly root: string) {}

  async write(index: number, chunk: number, bytes: Uint8Array): Promise<void> {
    const dir = join(this.root, name(index));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, name(chunk)), bytes);
  }

  async read(index: number, chunk: number): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(this.root, name(index), name(chunk))));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Makes snapshot `index` (chunks 0..chunks-1) durable: the files, then their directories. */
  async sync(index: number, chunks: number): Promise<void> {
    const dir = join(this.root, name(index));
    for (let chunk = 0; chunk < chunks; chunk++) await fsync(join(dir, name(chunk)), 'r+');
    await fsync(dir, 'r');
    await fsync(this.root, 'r');
    if (!this.synced) {
      await fsync(join(this.root, '..'), 'r'); // the snapshots directory's own entry, once
      this.synced = true;
    }
  }

  /** Removes chunk files of snapshot `index` from chunk `chunks` on (left by a transfer cut short). */
  async trim(index: number, chunks: number): Promise<void> {
    const dir = join(this.root, name(index));
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries) if (parseInt(entry, 16) >= chunks) await rm(join(dir, entry), { force: true });
  }

  /** Removes every snapshot but `keep` (0: all of them). */
  async removeOthers(keep: number): Promise<void> {
    for (const index of await this.indexes()) if (index !== keep) await rm(join(this.root, name(index)), { recursive: true, force: true });
  }

  /** Removes every snapshot older than `index`. */
  async removeBelow(index: number): Promise<void> {
    for (const i of await this.indexes()) if (i < index) await rm(join(this.root, name(i)), { recursive: true, force: true });
  }

  private async indexes(): Promise<number[]> {
    try {
      return (await readdir(this.root)).map((entry) => parseInt(entry, 16)).filter((n) => Number.isSafeInteger(n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

async function fsync(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
