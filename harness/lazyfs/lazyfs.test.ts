/**
 * The power-loss filesystem's model, through the TypeScript wrapper and plain node:fs calls on a
 * real FUSE mount: what a power loss discards (unsynced data, namespace changes whose directory
 * was not fsync'ed) and what it keeps (fsync'ed data, fsync'ed directories, writeback past the
 * bound). Also LevelDB on it, the data-directory fix in nodes/storage/durable-dir.ts, the control
 * socket's answer to garbage, the cleanup of stale mounts and the prerequisite messages. Every
 * mount and temporary directory is removed in teardown.
 */
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, rmdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { SeededRng } from '../../protocols/common/rng.js';
import { durableAfterOpen, fsyncDir, makeDurableDir } from '../../nodes/storage/durable-dir.js';
import { LevelDbPbftStore } from '../../nodes/storage/leveldb-pbft-store.js';
import { LevelDbRaftLogStore } from '../../nodes/storage/leveldb-raft-log-store.js';
import { missingToMount } from './build.js';
import { LazyFs, lazyFsLayout } from './lazyfs.js';
import { cleanupStaleMounts, lazyFsMounts, newRunId } from './mounts.js';
import { requireLazyFs } from './test-support.js';

async function mounted(t: Test, o: { maxDirtyBytes?: number; runId?: string } = {}): Promise<{ fs: LazyFs; mnt: string }> {
  const state = await mkdtemp(join(tmpdir(), 'cl-lazyfs-test-'));
  const fs = await LazyFs.mount({ ...lazyFsLayout(state, o.runId ?? newRunId(), 't'), ...(o.maxDirtyBytes === undefined ? {} : { maxDirtyBytes: o.maxDirtyBytes }) });
  t.teardown(async () => {
    await fs.unmount();
    await rm(state, { recursive: true, force: true });
  });
  return { fs, mnt: fs.mountPoint };
}

async function fsyncFile(path: string): Promise<void> {
  const h = await open(path, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** A file whose creation and content are durable. */
async function durableFile(dir: string, name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  await fsyncFile(path);
  await fsyncDir(dir);
  return path;
}

const text = (path: string) => readFile(path, 'utf8');

t.test('prerequisites are named (no FUSE needed)', async (t) => {
  const missing = await missingToMount({ platform: 'linux', uid: 1000, fuseDevice: '/nonexistent/fuse', path: '/nonexistent' });
  t.match(missing.join('\n'), /root/, 'not root');
  t.match(missing.join('\n'), /\/nonexistent\/fuse is missing/, 'no /dev/fuse');
  t.match(missing.join('\n'), /fusermount3 is missing \(Debian package fuse3\)/, 'no fuse3');
  t.same(await missingToMount({ platform: 'darwin', uid: 0, fuseDevice: '/dev/fuse', path: '' }), ['FUSE mounts need Linux (this is darwin)']);
});

t.test('with the filesystem', async (t) => {
  if (!(await requireLazyFs(t))) return;

  t.test('reads see unsynced data; a power loss discards it; fsynced data survives', async (t) => {
    const { fs, mnt } = await mounted(t);
    const path = await durableFile(mnt, 'f', 'durable');
    await writeFile(path, 'volatile and longer');
    t.equal(await text(path), 'volatile and longer', 'reads see the unsynced write');
    t.equal((await stat(path)).size, 19, 'and its size');
    const s = await fs.stats();
    t.ok(s.dirtyBytes >= 4096 && s.dirtyFiles === 1, `stats: ${s.dirtyBytes} dirty bytes in ${s.dirtyFiles} file`);
    const lost = await fs.powerLoss();
    t.match(lost, { droppedFiles: 1, undoneOps: 0, undoErrors: 0 });
    t.equal(await text(path), 'durable', 'back to what was fsynced');

    await writeFile(path, 'second, synced');
    await fsyncFile(path);
    await fs.powerLoss();
    t.equal(await text(path), 'second, synced', 'an fsynced overwrite survives');
  });

  t.test('a created file vanishes unless its directory was fsynced', async (t) => {
    const { fs, mnt } = await mounted(t);
    await writeFile(join(mnt, 'synced-data-only'), 'x');
    await fsyncFile(join(mnt, 'synced-data-only'));
    t.equal((await fs.stats()).pendingOps, 1, 'the create is pending');
    await fs.powerLoss();
    t.notOk(existsSync(join(mnt, 'synced-data-only')), 'fsync of the file alone does not keep its name');
    await durableFile(mnt, 'kept', 'y');
    t.equal((await fs.stats()).pendingOps, 0, 'fsync of the directory made it durable');
    await fs.powerLoss();
    t.equal(await text(join(mnt, 'kept')), 'y');
  });

  t.test('rename over a file and unlink are undone: names and contents come back', async (t) => {
    const { fs, mnt } = await mounted(t);
    await durableFile(mnt, 'CURRENT', 'MANIFEST-1');
    await durableFile(mnt, 'old', 'old content');
    // LevelDB's SetCurrentFile: write a temp file, fsync it, rename it over CURRENT.
    await writeFile(join(mnt, 'tmp'), 'MANIFEST-2');
    await fsyncFile(join(mnt, 'tmp'));
    await rename(join(mnt, 'tmp'), join(mnt, 'CURRENT'));
    await unlink(join(mnt, 'old'));
    t.equal(await text(join(mnt, 'CURRENT')), 'MANIFEST-2');
    t.same((await readdir(mnt)).sort(), ['CURRENT']);
    const lost = await fs.powerLoss();
    t.match(lost, { undoneOps: 3, undoErrors: 0 }, 'create tmp, rename, unlink');
    t.same((await readdir(mnt)).sort(), ['CURRENT', 'old']);
    t.equal(await text(join(mnt, 'CURRENT')), 'MANIFEST-1', 'the replaced file is back');
    t.equal(await text(join(mnt, 'old')), 'old content', 'the unlinked file is back');

    await writeFile(join(mnt, 'tmp'), 'MANIFEST-3');
    await fsyncFile(join(mnt, 'tmp'));
    await rename(join(mnt, 'tmp'), join(mnt, 'CURRENT'));
    await fsyncDir(mnt);
    await fs.powerLoss();
    t.equal(await text(join(mnt, 'CURRENT')), 'MANIFEST-3', 'a rename followed by an fsync of the directory survives');
    t.same((await readdir(mnt)).sort(), ['CURRENT', 'old']);
  });

  t.test('mkdir and rmdir are undone; a directory whose parent was not fsynced goes with its contents', async (t) => {
    const { fs, mnt } = await mounted(t);
    await mkdir(join(mnt, 'kept'));
    await fsyncDir(mnt);
    await rmdir(join(mnt, 'kept'));
    await mkdir(join(mnt, 'gone'));
    await durableFile(join(mnt, 'gone'), 'inside', 'fsynced, in an fsynced directory');
    await fs.powerLoss();
    t.notOk(existsSync(join(mnt, 'gone')), 'the directory was never made durable in its parent');
    t.ok((await stat(join(mnt, 'kept'))).isDirectory(), 'the rmdir is undone');

    await mkdir(join(mnt, 'a'));
    await fsyncDir(mnt);
    await durableFile(join(mnt, 'a'), 'f', 'in a');
    await unlink(join(mnt, 'a', 'f'));
    await rmdir(join(mnt, 'a'));
    await fsyncDir(mnt);
    t.equal((await fs.stats()).pendingOps, 2, 'rmdir waits for the unlink inside the directory, which was never fsynced');
    await fs.powerLoss();
    t.equal(await text(join(mnt, 'a', 'f')), 'in a', 'both undone, inner first');
  });

  t.test('truncation is unsynced data too', async (t) => {
    const { fs, mnt } = await mounted(t);
    const path = await durableFile(mnt, 'f', '0123456789'.repeat(1000));
    await truncate(path, 5);
    t.equal(await text(path), '01234');
    const h = await open(path, 'r+');
    await h.write('ab', 8192);
    await h.close();
    const after = await readFile(path);
    t.equal(after.length, 8194, 'extended by a write past the end');
    t.ok(after.subarray(5, 8192).every((b) => b === 0), 'the cut bytes read as zeros, not the old content');
    await fs.powerLoss();
    t.equal(await text(path), '0123456789'.repeat(1000), 'the truncation is undone');
    await truncate(path, 3);
    await fsyncFile(path);
    await fs.powerLoss();
    t.equal(await text(path), '012', 'an fsynced truncation survives');
  });

  t.test('past the bound, the oldest dirty files are written back and survive', async (t) => {
    const { fs, mnt } = await mounted(t, { maxDirtyBytes: 256 * 1024 });
    const path = await durableFile(mnt, 'big', '');
    const chunk = Buffer.alloc(64 * 1024, 7);
    const h = await open(path, 'r+');
    for (let i = 0; i < 16; i++) await h.write(chunk, 0, chunk.length, i * chunk.length);
    await h.close();
    const s = await fs.stats();
    t.ok(s.dirtyBytes <= 256 * 1024, `dirty bytes stay within the bound (${s.dirtyBytes})`);
    t.ok(s.writebacks >= 1 && s.writebackBytes >= 512 * 1024, `${s.writebacks} writebacks of ${s.writebackBytes} bytes`);
    await fs.powerLoss();
    const size = (await stat(path)).size;
    t.ok(size >= 1024 * 1024 - 256 * 1024, `what was written back survives (${size} of ${1024 * 1024} bytes)`);
    t.ok((await readFile(path)).every((b) => b === 7), 'and it is the data written');
  });

  t.test('random writes, truncations and fsyncs (seeded): reads always match, a power loss leaves the last fsynced content', async (t) => {
    const { fs, mnt } = await mounted(t); // the 64 MiB bound is never reached here: no writeback
    const rng = new SeededRng(Number(process.env['LAZYFS_SEED'] ?? 7));
    const path = await durableFile(mnt, 'f', '');
    let current = Buffer.alloc(0);
    let durable = Buffer.alloc(0);
    let h = await open(path, 'r+');
    let checks = 0;
    for (let step = 0; step < 600; step++) {
      const what = rng.int(100);
      if (what < 55) {
        const off = rng.int(current.length + 9000);
        const data = Buffer.from(Array.from({ length: 1 + rng.int(9000) }, () => rng.int(256)));
        await h.write(data, 0, data.length, off);
        if (off + data.length > current.length) current = Buffer.concat([current, Buffer.alloc(off + data.length - current.length)]);
        data.copy(current, off);
      } else if (what < 70) {
        const size = rng.int(current.length + 6000);
        await h.truncate(size);
        current = size <= current.length ? Buffer.from(current.subarray(0, size)) : Buffer.concat([current, Buffer.alloc(size - current.length)]);
      } else if (what < 82) {
        await h.sync();
        durable = Buffer.from(current);
      } else if (what < 96) {
        checks++;
        if (!(await readFile(path)).equals(current)) {
          t.fail(`step ${step}: a read differs from what was written`);
          break;
        }
      } else {
        // A power failure: the process dies (its descriptor closes), then the disk loses what was not durable.
        await h.close();
        await fs.powerLoss();
        if (!(await readFile(path)).equals(durable)) {
          t.fail(`step ${step}: after a power loss the file is not what was last fsynced`);
          break;
        }
        checks++;
        current = Buffer.from(durable);
        h = await open(path, 'r+');
      }
    }
    await h.close();
    const stats = await fs.stats();
    t.equal(stats.writebacks, 0, 'no writeback interfered');
    t.ok(stats.powerLosses >= 5, `600 random steps, ${checks} checks of the content, ${stats.powerLosses} power losses`);
  });

  t.test('sync makes everything durable; a clean unmount keeps everything', async (t) => {
    const state = await mkdtemp(join(tmpdir(), 'cl-lazyfs-test-'));
    t.teardown(() => rm(state, { recursive: true, force: true }));
    const layout = lazyFsLayout(state, newRunId(), 't');
    let fs = await LazyFs.mount(layout);
    t.teardown(() => fs.unmount());
    await writeFile(join(fs.mountPoint, 'a'), 'a');
    t.match(await fs.sync(), { flushedFiles: 1, committedOps: 1 });
    await fs.powerLoss();
    t.equal(await text(join(fs.mountPoint, 'a')), 'a', 'synced');
    await writeFile(join(fs.mountPoint, 'b'), 'b');
    await fs.unmount();
    t.equal(await text(join(layout.underDir, 'b')), 'b', 'written to the disk below on unmount');
    fs = await LazyFs.mount(layout);
    t.equal(await text(join(fs.mountPoint, 'b')), 'b', 'and there after a new mount');
    await fs.powerLoss();
    t.equal(await text(join(fs.mountPoint, 'b')), 'b', 'durable from the start');
  });

  t.test('LevelDB 1.20 (classic-level): a new database does not open after a power loss unless its directory is fsynced after the open', async (t) => {
    const { fs, mnt } = await mounted(t);
    for (const [name, fsyncAfterOpen] of [['as-is', false], ['fsynced', true]] as const) {
      const dir = join(mnt, name);
      await makeDurableDir(dir);
      const db = new Level<string, string>(dir);
      await db.open();
      if (fsyncAfterOpen) await durableAfterOpen(dir);
      await db.put('k', 'acknowledged', { sync: true });
      await db.close(); // closing makes nothing durable: the process could have been SIGKILLed
    }
    await fs.powerLoss();
    t.equal(await text(join(mnt, 'as-is', 'CURRENT')), 'MANIFEST-000001\n', 'the old CURRENT is back');
    t.equal((await stat(join(mnt, 'as-is', 'MANIFEST-000001'))).size, 0, 'naming a MANIFEST that was never synced');
    const broken = new Level<string, string>(join(mnt, 'as-is'));
    const err = await broken.open().then(() => null, (e: Error & { cause?: { code?: string } }) => e);
    t.equal(err?.cause?.code, 'LEVEL_CORRUPTION', `so the database does not open (${String(err?.cause)})`);
    const db = new Level<string, string>(join(mnt, 'fsynced'));
    await db.open();
    t.teardown(() => db.close());
    t.equal(await db.get('k'), 'acknowledged', 'with durableAfterOpen it opens, and the synced write is there');
  });

  t.test('our stores: a synced write survives a power loss, an unsynced one does not', async (t) => {
    const { fs, mnt } = await mounted(t);
    const entry = (index: number) => ({ index, term: 1, kind: 'command' as const, data: new TextEncoder().encode(`e${index}`) });
    const update = (entries: ReturnType<typeof entry>[]) => ({ hardState: { currentTerm: 1, votedFor: 'n1', commitIndex: 0 }, truncateFrom: null, entries });
    for (const sync of [true, false]) {
      const dir = join(mnt, `raft-${sync}`);
      await makeDurableDir(dir);
      const store = await LevelDbRaftLogStore.open(dir, { sync });
      await store.load();
      await store.persist(update([entry(1), entry(2)]));
      await store.close();
      const pbftDir = join(mnt, `pbft-${sync}`);
      await makeDurableDir(pbftDir);
      const pbft = await LevelDbPbftStore.open(pbftDir, { sync });
      await pbft.persist([{ key: 'view', value: 7 }]);
      await pbft.close();
    }
    await fs.powerLoss();
    const raft = async (sync: boolean) => {
      const store = await LevelDbRaftLogStore.open(join(mnt, `raft-${sync}`), { sync: true });
      const loaded = await store.load();
      await store.close();
      return [loaded.hardState.currentTerm, loaded.entries.length];
    };
    const pbft = async (sync: boolean) => {
      const store = await LevelDbPbftStore.open(join(mnt, `pbft-${sync}`), { sync: true });
      const records = await store.load();
      await store.close();
      return records;
    };
    t.same(await raft(true), [1, 2], 'Raft: term and entries survive');
    t.same(await raft(false), [0, 0], 'Raft with --unsafe-no-fsync: all gone');
    t.same(await pbft(true), [['view', 7]], 'PBFT: the record survives');
    t.same(await pbft(false), [], 'PBFT with --unsafe-no-fsync: gone');
  });

  t.test('LevelDB 1.20 switching to a new log: writes acknowledged in it survive a power loss only with LogSwitchWatch', async (t) => {
    const { fs, mnt } = await mounted(t, { maxDirtyBytes: 256 * 1024 * 1024 });
    const written = new Map<string, number>();
    for (const [name, watched] of [['as-is', '0'], ['watched', '1']] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'log-switch-writer.ts'), join(mnt, name), watched], { stdio: ['ignore', 'pipe', 'inherit'] });
      t.teardown(() => child.kill('SIGKILL'));
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      child.kill('SIGKILL'); // at once: before LevelDB's background compaction syncs a MANIFEST
      await once(child, 'exit');
      written.set(name, Number(line.toString()));
    }
    await fs.powerLoss();
    const survived = async (name: string) => {
      const db = new Level<string, string>(join(mnt, name));
      await db.open();
      let count = 0;
      for await (const _ of db.keys()) count++;
      await db.close();
      return count;
    };
    t.comment(`without the watch ${await survived('as-is')} of ${written.get('as-is')} acknowledged writes survived`);
    t.equal(await survived('watched'), written.get('watched'), 'with the watch every acknowledged write survives');
  });

  t.test('the data directory itself: lost without an fsync of its parent, kept by makeDurableDir', async (t) => {
    const { fs, mnt } = await mounted(t);
    // The durable one first: its fsync of the mount's root would make an earlier mkdir durable too.
    for (const [name, create] of [['durable', makeDurableDir], ['plain', (d: string) => mkdir(d, { recursive: true })]] as const) {
      const dir = join(mnt, name, 'n1');
      await create(dir);
      const store = await LevelDbPbftStore.open(dir, { sync: true });
      await store.persist([{ key: 'k', value: 'acknowledged' }]);
      await store.close();
    }
    await fs.powerLoss();
    t.notOk(existsSync(join(mnt, 'plain')), 'mkdir -p without an fsync of the parent: the whole data directory is gone');
    const store = await LevelDbPbftStore.open(join(mnt, 'durable', 'n1'), { sync: true });
    t.teardown(() => store.close());
    t.same(await store.load(), [['k', 'acknowledged']], 'makeDurableDir: the synced write survives');
  });

  t.test('the control socket answers garbage with an error and keeps serving', async (t) => {
    const { fs } = await mounted(t);
    const ask = async (payload: string): Promise<string> => {
      const s = createConnection(fs.options.controlPath);
      let answer = '';
      s.on('data', (b: Buffer) => (answer += b.toString()));
      s.end(payload);
      await once(s, 'close');
      return answer;
    };
    t.match(await ask('format c:\n'), /"ok":false,"error":"unknown command/);
    t.match(await ask('x'.repeat(5000)), /"ok":false,"error":"command line too long"/);
    t.match(await ask('\0\0\0\n'), /"ok":false/);
    t.match(await ask('  stats \r\n'), /"ok":true,"dirtyBytes":0/);
    t.equal((await fs.stats()).powerLosses, 0, 'still serving');
  });

  t.test('a stale mount (its harness is gone) is cleaned up', async (t) => {
    let dead = 999_999;
    while (isAlive(dead)) dead--;
    const { fs, mnt } = await mounted(t, { runId: `${dead}-test` });
    t.ok((await lazyFsMounts()).some((m) => m.mountPoint === mnt && m.ownerPid === dead), 'listed with its owner');
    await cleanupStaleMounts();
    t.notOk((await lazyFsMounts()).some((m) => m.mountPoint === mnt), 'unmounted');
    await until(() => !fs.mounted, 'the daemon exits');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function until(ok: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
