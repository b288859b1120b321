/**
 * One process for many small test files. A tap test file costs about 2 s of CPU before its first
 * assertion (a Node process, the tsx loader, tap's own modules), which over 74 small files was a
 * fifth of `npm test` on two cores. So the small, in-process tests are named `*.unit.ts`, and one
 * `units.test.ts` per area imports every `*.unit.ts` below its folder, in name order, into a single
 * tap process. Each unit file is still a complete tap test: `npx tap path/to/x.unit.ts` (or `node
 * --import tsx path/to/x.unit.ts`) runs it alone.
 *
 * A test belongs in its own `*.test.ts` instead when it starts processes, needs root, FUSE,
 * libfaketime or a browser, or runs long enough that it should run beside the others.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Every `*.unit.ts` below `dir` (recursively, but not into node_modules or dist), sorted. */
export function unitFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') found.push(...unitFiles(path));
    } else if (entry.name.endsWith('.unit.ts')) {
      found.push(path);
    }
  }
  return found.sort();
}

/** Imports, one after the other, every unit file below the folder of the runner at `runnerUrl`. */
export async function runUnits(runnerUrl: string): Promise<void> {
  const dir = dirname(fileURLToPath(runnerUrl));
  const files = unitFiles(dir);
  if (files.length === 0) throw new Error(`no *.unit.ts below ${dir}`);
  // Each import queues that file's subtests on tap's root test; they run in this order, and a
  // failure names its file in the stack tap prints.
  for (const file of files) await import(pathToFileURL(file).href);
}
