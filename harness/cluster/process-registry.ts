import type { ChildProcess } from 'node:child_process';

/**
 * Every replica process the harness starts, so that none outlives it: on exit (normal, an
 * exception, or a signal the caller turns into exit) each is SIGKILLed, paused ones included.
 * Replicas are also started with `--exit-with-parent` on an IPC channel, which covers the
 * harness being SIGKILLed itself.
 */
const children = new Set<ChildProcess>();
let installed = false;

export function track(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function killAllNow(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
}
