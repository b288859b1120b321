/**
 * Random key-value histories that are linearizable by construction, for tests and the bench.
 *
 * Clients issue one operation at a time. Each operation gets an interval [invoke, return] and a
 * linearization point strictly inside it; the operations are applied atomically to a real map in
 * the order of their points, and each completion records what the map answered. Some operations
 * become indeterminate (`info`): half of them took effect, half did not, and a few never complete
 * at all; the client then moves to a new process number, as Jepsen's do.
 *
 * `injectStaleRead` then breaks such a history in the smallest way: one read returns a value
 * that was certainly overwritten before the read began.
 */
import { SeededRng } from '../../protocols/common/rng.js';
import type { Rng } from '../../protocols/common/rng.js';
import type { EventType, EventValue, HistoryEvent, OpName } from './history.js';
import { stepKv } from './kv-model.js';
import type { KvState } from './kv-model.js';

export interface GenerateOptions {
  readonly seed: number;
  readonly ops: number;
  readonly keys?: number;
  readonly clients?: number;
  /** Probability that an operation ends indeterminate. */
  readonly infoRate?: number;
  /** Probability that a write or delete fails (and so does not happen). */
  readonly failRate?: number;
  /** Relative weights of read, write, cas and delete. */
  readonly mix?: Readonly<Record<OpName, number>>;
  readonly maxDurationNs?: number;
  readonly maxGapNs?: number;
}

const DEFAULT_MIX: Readonly<Record<OpName, number>> = { read: 0.45, write: 0.3, cas: 0.2, delete: 0.05 };

interface PlannedOp {
  readonly process: number;
  readonly f: OpName;
  readonly key: string;
  readonly value: EventValue;
  readonly invokeTime: number;
  readonly returnTime: number;
  readonly pointTime: number;
  readonly fate: 'ok' | 'fail' | 'info-applied' | 'info-lost';
  /** An indeterminate operation that never completes before the history ends. */
  readonly silent: boolean;
}

export function generateHistory(options: GenerateOptions): HistoryEvent[] {
  const rng = new SeededRng(options.seed);
  const planned = planOperations(options, rng);
  const outcomes = applyInPointOrder(planned);
  return toEvents(planned, outcomes);
}

function planOperations(options: GenerateOptions, rng: Rng): PlannedOp[] {
  const keyCount = options.keys ?? 10;
  const clientCount = options.clients ?? 10;
  const infoRate = options.infoRate ?? 0.02;
  const failRate = options.failRate ?? 0.01;
  const mix = options.mix ?? DEFAULT_MIX;
  const maxDurationNs = options.maxDurationNs ?? 2_000_000;
  const maxGapNs = options.maxGapNs ?? 500_000;
  const clients = Array.from({ length: clientCount }, (_, i) => ({ process: i, freeAt: 0 }));
  let nextProcess = clientCount;
  let nextValue = 0;
  const recentValues = new Map<string, string[]>();
  const planned: PlannedOp[] = [];
  for (let i = 0; i < options.ops; i++) {
    const client = clients.reduce((a, b) => (b.freeAt < a.freeAt ? b : a));
    const invokeTime = client.freeAt + 1 + rng.int(maxGapNs);
    const duration = 2 + rng.int(maxDurationNs);
    const key = `k${rng.int(keyCount)}`;
    const f = pick(mix, rng);
    const recent = recentValues.get(key) ?? [];
    let value: EventValue = null;
    if (f === 'write' || f === 'cas') {
      const fresh = `v${nextValue++}`;
      // Expect a recent value (or absence), so that some cas operations succeed.
      value = f === 'write' ? fresh : [rng.chance(0.2) ? null : (recent[rng.int(recent.length)] ?? null), fresh];
      recentValues.set(key, [...recent.slice(-3), fresh]);
    }
    const roll = rng.next();
    const info = roll < infoRate;
    const fate = info
      ? rng.chance(0.5) ? 'info-applied' : 'info-lost'
      : (f === 'write' || f === 'delete') && roll < infoRate + failRate ? 'fail' : 'ok';
    planned.push({
      process: client.process,
      f,
      key,
      value,
      invokeTime,
      returnTime: invokeTime + duration,
      pointTime: invokeTime + 1 + rng.int(duration - 1),
      fate,
      silent: info && rng.chance(0.3),
    });
    client.freeAt = invokeTime + duration;
    if (info) client.process = nextProcess++;
  }
  return planned;
}

/** Runs the operations against a real map at their linearization points; returns each result. */
function applyInPointOrder(planned: readonly PlannedOp[]): Array<{ type: EventType; value: EventValue }> {
  const order = planned.map((_, i) => i).sort((a, b) => planned[a]!.pointTime - planned[b]!.pointTime || a - b);
  const store = new Map<string, string>();
  const outcomes: Array<{ type: EventType; value: EventValue }> = [];
  for (const i of order) {
    const op = planned[i]!;
    const state: KvState = store.get(op.key) ?? null;
    if (op.fate === 'fail' || op.fate === 'info-lost') {
      outcomes[i] = { type: op.fate === 'fail' ? 'fail' : 'info', value: op.value };
      continue;
    }
    const result = stepKv(state, op.f, op.f === 'read' ? state : op.value);
    if (result.ok && result.next !== null) store.set(op.key, result.next);
    else if (result.ok) store.delete(op.key);
    const type: EventType = op.fate === 'info-applied' ? 'info' : result.ok ? 'ok' : 'fail';
    outcomes[i] = { type, value: op.f === 'read' ? state : op.value };
  }
  return outcomes;
}

function toEvents(planned: readonly PlannedOp[], outcomes: ReadonlyArray<{ type: EventType; value: EventValue }>): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  planned.forEach((op, i) => {
    const { process, f, key } = op;
    events.push({ process, type: 'invoke', f, key, value: f === 'read' ? null : op.value, time: op.invokeTime });
    const outcome = outcomes[i]!;
    if (outcome.type === 'info' && op.silent) return;
    const value = outcome.type === 'ok' ? outcome.value : f === 'read' ? null : op.value;
    events.push({ process, type: outcome.type, f, key, value, time: op.returnTime });
  });
  return events.sort((a, b) => a.time - b.time);
}

function pick(mix: Readonly<Record<OpName, number>>, rng: Rng): OpName {
  const names: OpName[] = ['read', 'write', 'cas', 'delete'];
  const total = names.reduce((sum, f) => sum + mix[f], 0);
  let roll = rng.next() * total;
  for (const f of names) {
    roll -= mix[f];
    if (roll < 0) return f;
  }
  return 'read';
}

export interface StaleReadInjection {
  readonly events: HistoryEvent[];
  readonly key: string;
  /** What was injected, for failure messages. */
  readonly description: string;
}

interface Span {
  readonly invoke: HistoryEvent;
  /** Index of the completion event, or -1. */
  readonly completion: number;
  readonly returnTime: number;
  readonly type: EventType;
}

/**
 * Makes one read stale: it returns a value `v` that an ok write set and that a later ok write,
 * cas or delete (invoked after the first returned) replaced before the read was invoked, and that
 * nothing else ever wrote. No linearization can then explain the read. An existing ok read after
 * the overwrite is changed when there is one; otherwise a new read by a new process is added.
 * Undefined when the history has no such pair of operations.
 */
export function injectStaleRead(events: readonly HistoryEvent[], rng: Rng): StaleReadInjection | undefined {
  const spans = pairSpans(events);
  const choices = staleChoices(spans);
  const choice = choices[rng.int(choices.length)];
  if (choice === undefined) return undefined;
  const { key, value, overwriter } = choice;
  const after = overwriter.returnTime;
  const staleWhy =
    `${JSON.stringify(value)}, overwritten by process ${overwriter.invoke.process}'s ` +
    `${overwriter.invoke.f} (returned at ${after})`;
  const reads = spans.filter(
    (s) =>
      s.type === 'ok' &&
      s.invoke.f === 'read' &&
      s.invoke.key === key &&
      s.invoke.time > after &&
      events[s.completion]?.value !== value,
  );
  const read = reads[rng.int(reads.length)];
  const copy = [...events];
  if (read !== undefined) {
    copy[read.completion] = { ...events[read.completion]!, value };
    return {
      events: copy,
      key,
      description: `process ${read.invoke.process}'s read of ${key} invoked at ${read.invoke.time} now returns ${staleWhy}`,
    };
  }
  const process = events.reduce((max, e) => Math.max(max, e.process), 0) + 1;
  copy.push(
    { process, type: 'invoke', f: 'read', key, value: null, time: after + 1 },
    { process, type: 'ok', f: 'read', key, value, time: after + 2 },
  );
  copy.sort((a, b) => a.time - b.time);
  return { events: copy, key, description: `a new read of ${key} by process ${process} at ${after + 1} returns ${staleWhy}` };
}

/**
 * Every (ok write of a value nothing else writes, the earliest-returning ok write, cas or delete
 * invoked after it returned) on the same key.
 */
function staleChoices(spans: readonly Span[]): Array<{ key: string; value: string; overwriter: Span }> {
  const writers = new Map<string, number>();
  const byKey = new Map<string, Span[]>();
  for (const s of spans) {
    const written = writtenValue(s.invoke);
    const id = `${s.invoke.key}\u0000${written}`;
    if (written !== undefined && s.type !== 'fail') writers.set(id, (writers.get(id) ?? 0) + 1);
    if (s.type === 'ok' && s.invoke.f !== 'read') {
      const list = byKey.get(s.invoke.key) ?? [];
      byKey.set(s.invoke.key, list);
      list.push(s);
    }
  }
  const choices: Array<{ key: string; value: string; overwriter: Span }> = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.invoke.time - b.invoke.time);
    // earliest[i]: the earliest-returning of list[i..].
    const earliest: Span[] = [];
    for (let i = list.length - 1; i >= 0; i--) {
      const later = earliest[i + 1];
      earliest[i] = later !== undefined && later.returnTime < list[i]!.returnTime ? later : list[i]!;
    }
    for (const first of list) {
      const value = writtenValue(first.invoke);
      if (value === undefined || writers.get(`${key}\u0000${value}`) !== 1) continue;
      const from = firstInvokedAfter(list, first.returnTime);
      const overwriter = earliest[from];
      if (overwriter !== undefined) choices.push({ key, value, overwriter });
    }
  }
  return choices;
}

function firstInvokedAfter(sorted: readonly Span[], time: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.invoke.time > time) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function pairSpans(events: readonly HistoryEvent[]): Span[] {
  const open = new Map<number, HistoryEvent>();
  const spans: Span[] = [];
  events.forEach((event, i) => {
    if (event.type === 'invoke') {
      open.set(event.process, event);
      return;
    }
    const invoke = open.get(event.process);
    if (invoke === undefined) return;
    open.delete(event.process);
    spans.push({ invoke, completion: i, returnTime: event.type === 'info' ? Infinity : event.time, type: event.type });
  });
  for (const invoke of open.values()) spans.push({ invoke, completion: -1, returnTime: Infinity, type: 'info' });
  return spans;
}

/** The value an operation would leave behind, if it sets one. */
function writtenValue(invoke: HistoryEvent): string | undefined {
  if (invoke.f === 'write' && typeof invoke.value === 'string') return invoke.value;
  if (invoke.f === 'cas' && Array.isArray(invoke.value)) return invoke.value[1];
  return undefined;
}
