/** Prints a check result for people: the verdict, and for a violation what went wrong where. */
import type { CheckResult, OperationReport, Violation } from './check-history.js';
import { showState } from './kv-model.js';

export interface FormatOptions {
  /** The budget the check ran with, to say so when the answer is unknown. */
  readonly timeoutMs?: number;
  /** How many of the prefix's last operations to show. */
  readonly prefixShown?: number;
}

export function formatResult(result: CheckResult, options: FormatOptions = {}): string {
  const lines: string[] = [];
  if (result.valid === true) {
    lines.push('LINEARIZABLE');
  } else if (result.valid === 'unknown') {
    const undecided = result.keys.filter((k) => k.valid === 'unknown').map((k) => JSON.stringify(k.key));
    const budget = options.timeoutMs === undefined ? 'the time budget' : `the time budget of ${options.timeoutMs} ms`;
    lines.push(`UNKNOWN: ${budget} ran out before ${plural(undecided.length, 'key')} ${undecided.join(', ')} ${undecided.length === 1 ? 'was' : 'were'} decided`);
  } else if (result.violation !== undefined) {
    lines.push(`NOT LINEARIZABLE: key ${JSON.stringify(result.violation.key)}`, '');
    lines.push(...formatViolation(result.violation, options.prefixShown ?? 10));
  }
  lines.push('', summary(result));
  return lines.join('\n');
}

export function formatViolation(violation: Violation, prefixShown: number): string[] {
  const { prefix, ops, returnedFirst, stateAfter } = violation;
  const lines: string[] = [
    `After a linearizable prefix of ${plural(prefix.length, 'operation')}, the value is ${showState(stateAfter)}.`,
    'None of these operations can come next:',
  ];
  for (const op of ops) lines.push(`  ${describeOp(op)}`, `      ${op.reason}`);
  lines.push(
    `${whose(returnedFirst)} returned at ${returnedFirst.returnTime ?? '?'}: ` +
      (ops.length === 1 ? 'it had to take effect by then.' : 'one of these had to take effect by then.'),
    '',
    `Longest linearizable prefix (value before: ${showState(violation.stateBefore)}, after: ${showState(stateAfter)}):`,
  );
  const hidden = Math.max(0, prefix.length - prefixShown);
  if (hidden > 0) lines.push(`  ... ${plural(hidden, 'earlier operation')} (--json shows all)`);
  for (const step of prefix.slice(hidden)) {
    lines.push(`  ${describeOp(step)}   ${showState(step.stateBefore)} -> ${showState(step.stateAfter)}`);
  }
  if (prefix.length === 0) lines.push('  (empty: not even the first operation can be linearized)');
  return lines;
}

/** `process 3  write "7"  [1200450, 1201877]`, with `info` for indeterminate operations. */
export function describeOp(op: OperationReport): string {
  const returned = op.returnTime === null ? 'never returned' : `returned ${op.returnTime}`;
  const info = op.status === 'info' ? '  (info: may or may not have happened)' : '';
  return `process ${String(op.process).padEnd(4)} ${describeCall(op).padEnd(24)} [invoked ${op.invokeTime}, ${returned}]${info}`;
}

function describeCall(op: OperationReport): string {
  switch (op.f) {
    case 'read':
      return op.status === 'ok' ? `read -> ${showValue(op.value)}` : 'read';
    case 'write':
      return `write ${showValue(op.value)}`;
    case 'cas': {
      const [expected, next] = Array.isArray(op.value) ? op.value : [null, null];
      return `cas ${showValue(expected ?? null)} -> ${showValue(next ?? null)}`;
    }
    case 'delete':
      return 'delete';
  }
}

function showValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : 'absent';
}

function whose(op: OperationReport): string {
  return `Process ${op.process}'s ${op.f}`;
}

function summary(result: CheckResult): string {
  const { stats, keys } = result;
  const counts = (['true', 'false', 'unknown'] as const)
    .map((v) => [v, keys.filter((k) => String(k.valid) === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v === 'true' ? 'linearizable' : v === 'false' ? 'not linearizable' : 'undecided'}`);
  const dropped = [
    stats.infoOps > 0 ? `${stats.infoOps} indeterminate` : '',
    stats.failedOps > 0 ? `${plural(stats.failedOps, 'failed operation')} dropped` : '',
    stats.infoReads > 0 ? `${plural(stats.infoReads, 'indeterminate read')} dropped` : '',
    stats.nemesisEvents > 0 ? `${plural(stats.nemesisEvents, 'nemesis event')} ignored` : '',
  ].filter((s) => s !== '');
  return (
    `${plural(stats.ops, 'operation')} on ${plural(stats.keys, 'key')}` +
    (counts.length > 0 ? ` (${counts.join(', ')})` : '') +
    (dropped.length > 0 ? `; ${dropped.join(', ')}` : '') +
    `; ${stats.elapsedMs.toFixed(0)} ms, ${stats.statesExplored} configurations explored.`
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
