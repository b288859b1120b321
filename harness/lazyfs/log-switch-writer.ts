/**
 * A child process for harness/lazyfs/lazyfs.test.ts: synced LevelDB writes into `dir` until
 * LevelDB switches to a new write-ahead log, then one more; prints how many it made, and waits to
 * be SIGKILLed (a power failure does not let a process close its database). With `watched`, each
 * write is followed by LogSwitchWatch.afterSyncedWrite, as the stores do.
 *   node --import tsx harness/lazyfs/log-switch-writer.ts <dir> <watched: 0|1>
 */
import { readdir } from 'node:fs/promises';
import { Level } from 'level';
import { durableAfterOpen, LogSwitchWatch, makeDurableDir } from '../../nodes/storage/durable-dir.js';

const [dir, watchedArg] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: log-switch-writer.ts <dir> <0|1>');
const watched = watchedArg === '1';
const newestLog = async () => (await readdir(dir)).filter((n) => n.endsWith('.log')).sort().at(-1);

await makeDurableDir(dir);
const db = new Level<string, string>(dir);
await db.open();
await durableAfterOpen(dir);
const watch = await LogSwitchWatch.open(dir);
const first = await newestLog();
const value = 'v'.repeat(64 * 1024);
let n = 0;
const put = async (key: string, v: string) => {
  await db.put(key, v, { sync: true });
  if (watched) await watch.afterSyncedWrite();
  n++;
};
while ((await newestLog()) === first) await put(`k${n}`, value);
await put(`k${n}`, 'after the switch');
process.stdout.write(`${n}\n`);
setInterval(() => undefined, 60_000);
