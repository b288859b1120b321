/** The chaos runs under store/ (one folder each, see harness/chaos/run-chaos.ts), for replay. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { ResultsFile } from '../chaos/results-file.js';
import { buildReplay, type ReplayData } from './replay-data.js';

export interface RunListing {
  name: string;
  verdict: string;
  protocol: string | null;
  startedAt: string | null;
}

const runName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/** Runs with a history, newest first (`latest` is a link to one of them and is skipped). */
export async function listRuns(storeDir: string): Promise<RunListing[]> {
  const names = await readdir(storeDir).catch(() => [] as string[]);
  const runs: RunListing[] = [];
  for (const name of names) {
    if (name === 'latest' || !runName.test(name)) continue;
    const dir = join(storeDir, name);
    const history = await stat(join(dir, 'history.jsonl')).catch(() => null);
    if (history === null || !history.isFile()) continue;
    const results = await readResults(dir);
    runs.push({ name, verdict: results?.verdict ?? 'unchecked', protocol: results?.options?.protocol ?? null, startedAt: results?.startedAt ?? null });
  }
  return runs.sort((a, b) => (b.startedAt ?? b.name).localeCompare(a.startedAt ?? a.name));
}

/** One run's replay; throws for a name that is not a run folder directly under storeDir. */
export async function loadRun(storeDir: string, name: string): Promise<ReplayData> {
  const root = resolve(storeDir);
  const dir = resolve(root, name);
  if (!runName.test(name) || !dir.startsWith(root + sep)) throw new Error(`not a run: ${name}`);
  const history = await readFile(join(dir, 'history.jsonl'), 'utf8');
  return buildReplay(name, await readResults(dir), history);
}

async function readResults(dir: string): Promise<Partial<ResultsFile> | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as Partial<ResultsFile>;
  } catch {
    return null;
  }
}
