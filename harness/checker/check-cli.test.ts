/** The standalone checker (check-cli.ts) as a process: its output and exit codes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { HistoryEvent } from './history.js';
import { history, op } from './history-builder.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'checker-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function jsonl(events: readonly HistoryEvent[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

function check(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'harness/checker/check-cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const GOOD = history(op(1, 'write', 'a', 0, 10), op(2, 'read', 'a', 5, 20), op(3, 'cas', ['a', 'b'], 21, 30));
const STALE = history(op(1, 'write', 'a', 0, 1), op(1, 'write', 'b', 2, 3), op(2, 'read', 'a', 4, 5));

t.test('exit 0 for a linearizable history', async (t) => {
  const nemesis = '{"process": "nemesis", "type": "info", "f": "start", "value": null, "time": 4}\n';
  const run = check(file('good.jsonl', jsonl(GOOD) + nemesis));
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^LINEARIZABLE/);
  t.match(run.stdout, /3 operations on 1 key \(1 linearizable\); 1 nemesis event ignored/);
});

t.test('exit 1 for a violation, printed readably', async (t) => {
  const run = check(file('stale.jsonl', jsonl(STALE)));
  t.equal(run.code, 1, run.stderr);
  t.match(run.stdout, /NOT LINEARIZABLE: key "x"/);
  t.match(run.stdout, /After a linearizable prefix of 2 operations, the value is "b"/);
  t.match(run.stdout, /process 2 +read -> "a" +\[invoked 4, returned 5\]/);
  t.match(run.stdout, /read returned "a" but the value was "b"/);
  t.match(run.stdout, /Longest linearizable prefix \(value before: absent, after: "b"\)/);
  t.match(run.stdout, /process 1 +write "b" +\[invoked 2, returned 3\] +"a" -> "b"/);
});

t.test('--json prints the whole result', async (t) => {
  const run = check(file('stale2.jsonl', jsonl(STALE)), '--json');
  t.equal(run.code, 1);
  const result = JSON.parse(run.stdout) as { valid: unknown; violation: { key: string; prefix: unknown[] } };
  t.equal(result.valid, false);
  t.equal(result.violation.key, 'x');
  t.equal(result.violation.prefix.length, 2);
});

t.test('exit 2 when the time budget runs out', async (t) => {
  const writes = Array.from({ length: 22 }, (_, i) => op(i, 'write', `w${i}`, i, 1000 + i));
  const hard = history(...writes, op(100, 'read', 'w0', 2000, 2001), op(100, 'read', 'w1', 2002, 2003));
  const run = check(file('hard.jsonl', jsonl(hard)), '--timeout-ms', '30');
  t.equal(run.code, 2, run.stderr);
  t.match(run.stdout, /UNKNOWN: the time budget of 30 ms ran out before 1 key "x" was decided/);
});

t.test('exit 2, with a clear message, for input it cannot read', async (t) => {
  const garbage = check(file('garbage.jsonl', '{"process": 1, "type": "invoke", "f": "read", "key": "x", "time": 1}\nnot json\n'));
  t.equal(garbage.code, 2);
  t.match(garbage.stderr, /garbage.jsonl is not a history the checker can read: line 2: not JSON/);
  const orphan = check(file('orphan.jsonl', '{"process": 1, "type": "ok", "f": "read", "key": "x", "value": null, "time": 1}\n'));
  t.equal(orphan.code, 2);
  t.match(orphan.stderr, /process 1: ok read at time 1 has no invoke/);
  const missing = check(join(dir, 'missing.jsonl'));
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read .*missing.jsonl/);
  const usage = check();
  t.equal(usage.code, 2);
  t.match(usage.stderr, /usage: npm run check/);
  const badTimeout = check(file('good2.jsonl', jsonl(GOOD)), '--timeout-ms', 'soon');
  t.equal(badTimeout.code, 2);
  t.match(badTimeout.stderr, /--timeout-ms must be a non-negative number/);
});

t.test('reads a Jepsen history.edn', async (t) => {
  const edn = [
    '{:type :invoke, :f :write, :value 3, :process 0, :time 10, :index 0}',
    '{:type :info, :f :start, :value nil, :process :nemesis, :time 11, :index 1}',
    '{:type :ok, :f :write, :value 3, :process 0, :time 20, :index 2}',
    '{:type :invoke, :f :read, :value nil, :process 1, :time 30, :index 3}',
    '{:type :ok, :f :read, :value VALUE, :process 1, :time 40, :index 4}',
  ].join('\n');
  const good = check(file('history.edn', edn.replace('VALUE', '3')));
  t.equal(good.code, 0, good.stderr);
  const bad = check(file('bad-history.edn', edn.replace('VALUE', '4')));
  t.equal(bad.code, 1, bad.stderr);
  t.match(bad.stdout, /NOT LINEARIZABLE: key "register"/);
  const sniffed = check(file('history.txt', edn.replace('VALUE', '3')));
  t.equal(sniffed.code, 0, 'the format is recognised from the content too');
  const forced = check(file('edn-as-jsonl.txt', edn), '--format', 'jsonl');
  t.equal(forced.code, 2);
});
