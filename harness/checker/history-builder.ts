/** Hand-made histories for tests: one call per operation, events sorted by time. */
import type { EventValue, HistoryEvent, OpName } from './history.js';

export type Completion = 'ok' | 'fail' | 'info';

/**
 * One operation's events. For a read `value` is what it returned. `returnTime: null` leaves the
 * operation open (no completion at all), which the checker treats like `info`.
 */
export function op(
  process: number,
  f: OpName,
  value: EventValue,
  invokeTime: number,
  returnTime: number | null,
  type: Completion = 'ok',
  key = 'x',
): HistoryEvent[] {
  const invoke: HistoryEvent = { process, type: 'invoke', f, key, value: f === 'read' ? null : value, time: invokeTime };
  if (returnTime === null) return [invoke];
  return [invoke, { process, type, f, key, value: f === 'read' && type !== 'ok' ? null : value, time: returnTime }];
}

export function history(...ops: HistoryEvent[][]): HistoryEvent[] {
  return ops.flat().sort((a, b) => a.time - b.time);
}
