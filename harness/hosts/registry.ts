/**
 * The registry of what runs made: one JSON file per run under /run/consensus-lab/netns/ (a tmpfs,
 * emptied at boot, like the namespaces themselves), naming the owning process and everything the
 * run created. A run that ends normally, or on Ctrl-C/SIGTERM, removes what it made and its entry.
 * A run that was SIGKILLed cannot: the next start finds its entry, sees that the owner is gone,
 * and removes what the entry names (removeStaleRuns). Deleting a namespace also deletes the veth
 * end inside it (and so its peer), its iptables rules and its tc qdiscs.
 */
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shQuiet } from './host-tools.js';

export const REGISTRY_DIR = process.env['CONSENSUS_LAB_RUN_DIR'] ?? '/run/consensus-lab/netns';

export interface RunEntry {
  runId: string;
  /** The process that owns the run, and its start time (so a reused pid is not taken for it). */
  pid: number;
  pidStart: string | null;
  bridge: string;
  subnet: string;
  namespaces: string[];
  hostVeths: string[];
}

/** Field 22 of /proc/<pid>/stat: the process's start time since boot (proc(5)), or null. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the entry's owner is gone (no such process, or another process under its pid). */
export function isStale(entry: Pick<RunEntry, 'pid' | 'pidStart'>): boolean {
  if (entry.pid === process.pid) return false;
  const start = processStart(entry.pid);
  return start === null || (entry.pidStart !== null && start !== entry.pidStart);
}

const entryPath = (runId: string) => join(REGISTRY_DIR, `${runId}.json`);

/** Write (or rewrite, atomically) a run's entry. */
export async function saveEntry(entry: RunEntry): Promise<void> {
  await mkdir(REGISTRY_DIR, { recursive: true });
  const tmp = `${entryPath(entry.runId)}.tmp`;
  await writeFile(tmp, JSON.stringify(entry, null, 2) + '\n');
  await rename(tmp, entryPath(entry.runId));
}

export async function dropEntry(runId: string): Promise<void> {
  await rm(entryPath(runId), { force: true });
}

export async function listEntries(): Promise<RunEntry[]> {
  const files = await readdir(REGISTRY_DIR).catch(() => [] as string[]);
  const out: RunEntry[] = [];
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    const entry = await readFile(join(REGISTRY_DIR, f), 'utf8').then((t) => JSON.parse(t) as RunEntry, () => null);
    if (entry !== null) out.push(entry);
  }
  return out;
}

/** Remove everything an entry names (whatever is still there), then the entry. */
export async function removeRun(entry: RunEntry): Promise<void> {
  for (const ns of entry.namespaces) await shQuiet('ip', ['netns', 'delete', ns]);
  for (const veth of entry.hostVeths) await shQuiet('ip', ['link', 'delete', veth]);
  await shQuiet('ip', ['link', 'delete', entry.bridge]);
  await dropEntry(entry.runId);
}

/** The same, synchronously, for a process 'exit' handler. */
export function removeRunSync(entry: RunEntry, run: (cmd: string, args: string[]) => void): void {
  const quiet = (args: string[]) => {
    try {
      run('ip', args);
    } catch {
      // already gone
    }
  };
  for (const ns of entry.namespaces) quiet(['netns', 'delete', ns]);
  for (const veth of entry.hostVeths) quiet(['link', 'delete', veth]);
  quiet(['link', 'delete', entry.bridge]);
  rmSync(entryPath(entry.runId), { force: true });
}

/** Remove the runs whose owner died (SIGKILL); returns their ids. */
export async function removeStaleRuns(): Promise<string[]> {
  const stale = (await listEntries()).filter(isStale);
  for (const entry of stale) await removeRun(entry);
  return stale.map((e) => e.runId);
}
