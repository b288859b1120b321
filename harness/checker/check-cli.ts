/**
 * The standalone checker:
 *
 *   npm run check -- path/to/history.jsonl [--timeout-ms N] [--json] [--format jsonl|edn]
 *
 * Reads a §6 JSON Lines history, or a Jepsen register / cas-register `history.edn`.
 * Exit code: 0 linearizable, 1 not linearizable, 2 unknown (time budget spent) or unreadable
 * input.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHistory } from './check-history.js';
import type { CheckResult } from './check-history.js';
import { formatResult } from './format-result.js';
import { HistoryError, parseHistoryJsonl } from './history.js';
import type { ParsedHistory } from './history.js';
import { parseJepsenEdn } from './jepsen-edn.js';

const EXIT_LINEARIZABLE = 0;
const EXIT_NOT_LINEARIZABLE = 1;
const EXIT_UNKNOWN = 2;

const DEFAULT_TIMEOUT_MS = 60_000;

const USAGE = `usage: npm run check -- <history.jsonl | history.edn> [--timeout-ms N] [--json] [--format jsonl|edn]

  --timeout-ms N   time budget for the search (default ${DEFAULT_TIMEOUT_MS}); past it the answer is "unknown"
  --json           print the full result as JSON
  --format F       jsonl (docs/design.md §6.1) or edn (Jepsen history.edn); by default from the file

exit code: 0 linearizable, 1 not linearizable, 2 unknown or unreadable input`;

class UsageError extends Error {}

interface CliOptions {
  readonly path: string;
  readonly timeoutMs: number;
  readonly json: boolean;
  readonly format: 'jsonl' | 'edn' | undefined;
}

function main(argv: readonly string[]): number {
  let options: CliOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n\n${USAGE}\n`);
    return EXIT_UNKNOWN;
  }
  let text: string;
  try {
    text = readFileSync(options.path, 'utf8');
  } catch (err) {
    process.stderr.write(`error: cannot read ${options.path}: ${(err as Error).message}\n`);
    return EXIT_UNKNOWN;
  }
  let result: CheckResult;
  try {
    const history = parse(text, options.format ?? detectFormat(options.path, text));
    // The nemesis events go in too: they are counted in the stats and otherwise ignored.
    result = checkHistory([...history.events, ...history.nemesis], { timeoutMs: options.timeoutMs });
  } catch (err) {
    if (!(err instanceof HistoryError)) throw err;
    process.stderr.write(`error: ${options.path} is not a history the checker can read: ${err.message}\n`);
    return EXIT_UNKNOWN;
  }
  process.stdout.write(
    options.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatResult(result, { timeoutMs: options.timeoutMs })}\n`,
  );
  if (result.valid === true) return EXIT_LINEARIZABLE;
  return result.valid === false ? EXIT_NOT_LINEARIZABLE : EXIT_UNKNOWN;
}

function parseOptions(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        'timeout-ms': { type: 'string' },
        json: { type: 'boolean', default: false },
        format: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { positionals, values } = parsed;
  const path = positionals[0];
  if (path === undefined || positionals.length > 1) throw new UsageError('expected exactly one history file');
  const timeoutText = values['timeout-ms'];
  const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : Number(timeoutText);
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new UsageError(`--timeout-ms must be a non-negative number, got ${timeoutText ?? ''}`);
  }
  const format = values.format;
  if (format !== undefined && format !== 'jsonl' && format !== 'edn') {
    throw new UsageError(`--format must be jsonl or edn, got ${format}`);
  }
  return { path, timeoutMs, json: values.json, format };
}

function detectFormat(path: string, text: string): 'jsonl' | 'edn' {
  const ext = extname(path).toLowerCase();
  if (ext === '.edn') return 'edn';
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return 'jsonl';
  // JSON objects start with `{"`; EDN maps with `{:`, records with `#`, vectors with `[`.
  return /^\s*\{\s*"/.test(text) || text.trim() === '' ? 'jsonl' : 'edn';
}

function parse(text: string, format: 'jsonl' | 'edn'): ParsedHistory {
  return format === 'edn' ? parseJepsenEdn(text) : parseHistoryJsonl(text);
}

process.exitCode = main(process.argv.slice(2));
