/**
 * The history format shared by the harness and the checker (docs/design.md §6.1): JSON Lines, one event
 * per line, in Jepsen's vocabulary. Client events carry a numeric `process`; anything else (the
 * nemesis, with `"process": "nemesis"`) is kept aside, not checked.
 */

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
export type OpName = 'read' | 'write' | 'cas' | 'delete';

/** A cas argument: `[expected, new]`; `expected: null` means "only if absent". */
export type CasValue = readonly [expected: string | null, next: string];

/** write: the value written; cas: `[expected, new]`; read: `null` on invoke, the value read on ok. */
export type EventValue = string | null | CasValue;

export interface HistoryEvent {
  readonly process: number;
  readonly type: EventType;
  readonly f: OpName;
  readonly key: string;
  readonly value: EventValue;
  /** Monotonic clock, nanoseconds. */
  readonly time: number;
}

/** A non-client event (nemesis start/stop, ...), kept as it was read. */
export interface NemesisEvent {
  readonly [field: string]: unknown;
}

export interface ParsedHistory {
  readonly events: HistoryEvent[];
  readonly nemesis: NemesisEvent[];
}

/** A history that cannot be read or does not make sense (an `ok` without an `invoke`, ...). */
export class HistoryError extends Error {
  override name = 'HistoryError';
}

const EVENT_TYPES: ReadonlySet<string> = new Set<EventType>(['invoke', 'ok', 'fail', 'info']);
const OP_NAMES: ReadonlySet<string> = new Set<OpName>(['read', 'write', 'cas', 'delete']);

export function isClientEvent(event: HistoryEvent | NemesisEvent): event is HistoryEvent {
  return typeof event.process === 'number';
}

/** Parses §6 JSON Lines. Blank lines are skipped; errors name the line. */
export function parseHistoryJsonl(text: string): ParsedHistory {
  const events: HistoryEvent[] = [];
  const nemesis: NemesisEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    const where = `line ${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new HistoryError(`${where}: not JSON (${(err as Error).message})`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new HistoryError(`${where}: expected a JSON object`);
    }
    const record = raw as Record<string, unknown>;
    if (typeof record['process'] === 'number') events.push(toHistoryEvent(record, where));
    else nemesis.push(record);
  }
  return { events, nemesis };
}

/** Validates one client event given as a plain object (from JSON or EDN). */
export function toHistoryEvent(record: Readonly<Record<string, unknown>>, where: string): HistoryEvent {
  const { process, type, f, key, time } = record;
  if (typeof process !== 'number' || !Number.isFinite(process)) {
    throw new HistoryError(`${where}: "process" must be a number`);
  }
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
    throw new HistoryError(`${where}: "type" must be invoke, ok, fail or info, got ${show(type)}`);
  }
  if (typeof f !== 'string' || !OP_NAMES.has(f)) {
    throw new HistoryError(`${where}: "f" must be read, write, cas or delete, got ${show(f)}`);
  }
  if (typeof key !== 'string') throw new HistoryError(`${where}: "key" must be a string`);
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new HistoryError(`${where}: "time" must be a number (nanoseconds)`);
  }
  const value = toEventValue(f as OpName, type as EventType, record['value'], where);
  return { process, type: type as EventType, f: f as OpName, key, value, time };
}

function toEventValue(f: OpName, type: EventType, value: unknown, where: string): EventValue {
  switch (f) {
    case 'read':
      // Only an ok read's value means anything; a failed or indeterminate read observed nothing.
      if (type !== 'ok') return null;
      if (value === null || value === undefined || typeof value === 'string') return value ?? null;
      throw new HistoryError(`${where}: a read's value must be a string or null, got ${show(value)}`);
    case 'write':
      if (typeof value === 'string') return value;
      throw new HistoryError(`${where}: a write's value must be a string, got ${show(value)}`);
    case 'cas':
      if (
        Array.isArray(value) &&
        value.length === 2 &&
        (value[0] === null || typeof value[0] === 'string') &&
        typeof value[1] === 'string'
      ) {
        return [value[0] as string | null, value[1]];
      }
      throw new HistoryError(`${where}: a cas value must be [expected or null, new], got ${show(value)}`);
    case 'delete':
      return null;
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}
