/**
 * The checker's entry point for the harness: is a key-value history linearizable?
 *
 * The history is split per key (P-compositionality) and each key is searched on its own
 * (key-search.ts). One time budget is shared by all keys: keys are run smallest first, each for a
 * fair share of what is left, and the ones that run out are resumed with whatever the others
 * left over. A key still undecided when the budget is spent is `unknown`, and so is the answer,
 * unless another key is certainly not linearizable.
 */
import { invariant } from '../../protocols/common/invariant.js';
import type { EventValue, HistoryEvent, NemesisEvent, OpName } from './history.js';
import { KeySearch } from './key-search.js';
import type { SearchFailure, SearchStatus } from './key-search.js';
import { showState, stepKv } from './kv-model.js';
import type { KvState } from './kv-model.js';
import { pairOperations, partitionByKey } from './operations.js';
import type { Operation, OpStatus } from './operations.js';

export interface CheckOptions {
  /** Time budget for the whole history; without it the search runs to the end. */
  readonly timeoutMs?: number;
}

export type Verdict = true | false | 'unknown';

export interface OperationReport {
  readonly process: number;
  readonly f: OpName;
  readonly key: string;
  /** write: value written; cas: `[expected, new]`; read: the value it returned; delete: null. */
  readonly value: EventValue;
  readonly status: OpStatus;
  readonly invokeTime: number;
  /** `null` for an indeterminate (info) operation. */
  readonly returnTime: number | null;
}

export interface PrefixStep extends OperationReport {
  readonly stateBefore: KvState;
  readonly stateAfter: KvState;
}

export interface StuckOperation extends OperationReport {
  /** Why it cannot be the next operation after the prefix. */
  readonly reason: string;
}

export interface Violation {
  readonly key: string;
  /**
   * The operations that could have been linearized next after the longest prefix, and none of
   * which could: the smallest set of operations the search could not linearize.
   */
  readonly ops: readonly StuckOperation[];
  /** The one of them that returned first: it had to take effect before its return. */
  readonly returnedFirst: OperationReport;
  /** The longest linearizable prefix the search found, in linearization order. */
  readonly prefix: readonly PrefixStep[];
  /** The key's state before the prefix (the key starts absent). */
  readonly stateBefore: KvState;
  /** The key's state after the prefix, where the search got stuck. */
  readonly stateAfter: KvState;
}

export interface KeyResult {
  readonly key: string;
  readonly valid: Verdict;
  readonly ops: number;
  readonly statesExplored: number;
  readonly elapsedMs: number;
  readonly violation?: Violation;
}

export interface CheckStats {
  /** Operations checked: ok ones and indeterminate writes, cas and deletes. */
  readonly ops: number;
  readonly keys: number;
  readonly elapsedMs: number;
  readonly statesExplored: number;
  /** Of the checked operations, the indeterminate (info) ones. */
  readonly infoOps: number;
  /** Dropped: failed operations (they never happened) and indeterminate reads. */
  readonly failedOps: number;
  readonly infoReads: number;
  /** Events of non-client processes, ignored. */
  readonly nemesisEvents: number;
}

export interface CheckResult {
  readonly valid: Verdict;
  /** Per key, sorted by key. */
  readonly keys: readonly KeyResult[];
  /** The first violating key's violation, when `valid` is false. */
  readonly violation?: Violation;
  readonly stats: CheckStats;
}

interface KeyJob {
  readonly key: string;
  readonly search: KeySearch;
  status: SearchStatus;
  elapsedMs: number;
}

export function checkHistory(
  events: ReadonlyArray<HistoryEvent | NemesisEvent>,
  options: CheckOptions = {},
): CheckResult {
  const startedMs = performance.now();
  const deadlineMs = options.timeoutMs === undefined ? Infinity : startedMs + Math.max(0, options.timeoutMs);
  const paired = pairOperations(events);
  const jobs: KeyJob[] = [...partitionByKey(paired.ops)].map(([key, ops]) => ({
    key,
    search: new KeySearch(ops),
    status: 'paused',
    elapsedMs: 0,
  }));
  runWithinBudget(jobs, deadlineMs);
  jobs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const keys = jobs.map(toKeyResult);
  const violation = keys.find((k) => k.violation !== undefined)?.violation;
  const valid: Verdict = keys.some((k) => k.valid === false)
    ? false
    : keys.some((k) => k.valid === 'unknown')
      ? 'unknown'
      : true;
  const stats: CheckStats = {
    ops: paired.ops.length,
    keys: keys.length,
    elapsedMs: performance.now() - startedMs,
    statesExplored: keys.reduce((sum, k) => sum + k.statesExplored, 0),
    infoOps: paired.ops.filter((op) => op.status === 'info').length,
    failedOps: paired.failed,
    infoReads: paired.infoReads,
    nemesisEvents: paired.nemesis,
  };
  return violation === undefined ? { valid, keys, stats } : { valid, keys, violation, stats };
}

/** Round-robin over the undecided keys, smallest first, each with a fair share of what is left. */
function runWithinBudget(jobs: readonly KeyJob[], deadlineMs: number): void {
  let pending = [...jobs].sort((a, b) => a.search.ops.length - b.search.ops.length);
  while (pending.length > 0 && performance.now() < deadlineMs) {
    const paused: KeyJob[] = [];
    pending.forEach((job, i) => {
      const nowMs = performance.now();
      const sliceEndMs = deadlineMs === Infinity ? Infinity : nowMs + (deadlineMs - nowMs) / (pending.length - i);
      job.status = job.search.run(Math.min(sliceEndMs, deadlineMs));
      job.elapsedMs += performance.now() - nowMs;
      if (job.status === 'paused') paused.push(job);
    });
    pending = paused;
  }
}

function toKeyResult(job: KeyJob): KeyResult {
  const { key, search, status, elapsedMs } = job;
  const stats = { ops: search.ops.length, statesExplored: search.statesExplored, elapsedMs };
  if (status === 'linearizable') return { key, valid: true, ...stats };
  const failure = search.failure();
  if (status === 'paused' || failure === undefined) return { key, valid: 'unknown', ...stats };
  return { key, valid: false, ...stats, violation: describeViolation(key, search.ops, failure) };
}

function describeViolation(key: string, ops: readonly Operation[], failure: SearchFailure): Violation {
  const prefix: PrefixStep[] = [];
  let state: KvState = null;
  for (const i of failure.prefix) {
    const op = opAt(ops, i);
    const result = stepKv(state, op.f, op.value);
    const stateAfter: KvState = result.ok ? result.next : state;
    prefix.push({ ...report(op), stateBefore: state, stateAfter });
    state = stateAfter;
  }
  invariant(state === failure.state, 'checker: replaying the prefix must give the search\'s state');
  const stuck = [...failure.candidates, ...failure.infoCandidates].map((i): StuckOperation => {
    const op = opAt(ops, i);
    return { ...report(op), reason: whyStuck(op, state) };
  });
  return {
    key,
    ops: stuck,
    returnedFirst: report(opAt(ops, failure.blocking)),
    prefix,
    stateBefore: null,
    stateAfter: state,
  };
}

function whyStuck(op: Operation, state: KvState): string {
  const result = stepKv(state, op.f, op.value);
  if (!result.ok) return result.reason;
  const effect = `it could take effect here (the value becomes ${showState(result.next)})`;
  return op.status === 'info'
    ? `${effect}, but that does not help: no linearization of the rest follows`
    : `${effect}, but no linearization of the rest follows`;
}

function report(op: Operation): OperationReport {
  return {
    process: op.process,
    f: op.f,
    key: op.key,
    value: op.value,
    status: op.status,
    invokeTime: op.invokeTime,
    returnTime: op.returnTime === Infinity ? null : op.returnTime,
  };
}

function opAt(ops: readonly Operation[], i: number): Operation {
  const op = ops[i];
  invariant(op !== undefined, () => `checker: operation ${i} out of range`);
  return op;
}
