/**
 * Everything the benchmark starts is registered here, so that Ctrl-C, an exception or a failed
 * test still stops every process and removes every temporary directory (docs/design.md §7.2).
 */
type Cleanup = { async: () => Promise<void>; sync: () => void };
const cleanups = new Set<Cleanup>();
let installed = false;

/** Register a cleanup; returns a function that unregisters it (call after a normal stop). */
export function onCleanup(async: () => Promise<void>, sync: () => void): () => void {
  install();
  const c = { async, sync };
  cleanups.add(c);
  return () => cleanups.delete(c);
}

let shuttingDown = false;

/** After Ctrl-C: start nothing new. */
export function isShuttingDown(): boolean {
  return shuttingDown;
}

export async function cleanupAll(opts: { final?: boolean } = {}): Promise<void> {
  if (opts.final === true) shuttingDown = true;
  const all = [...cleanups];
  cleanups.clear();
  await Promise.all(all.map((c) => c.async().catch(() => undefined)));
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const c of cleanups) {
      try {
        c.sync();
      } catch {
        // best effort at exit
      }
    }
  });
}
