/**
 * The sequential specification the checker holds histories to: one register per key, whose
 * state is the key's value, or `null` when the key is absent. The search (key-search.ts) runs the
 * same rules on interned values; this string form is for reports and the history generator.
 */
import type { EventValue, OpName } from './history.js';

export type KvState = string | null;

export type KvStep =
  | { readonly ok: true; readonly next: KvState }
  | { readonly ok: false; readonly reason: string };

/** Applies one operation (`value` as in `Operation.value`) to a key's state. */
export function stepKv(state: KvState, f: OpName, value: EventValue): KvStep {
  switch (f) {
    case 'read':
      return value === state
        ? { ok: true, next: state }
        : { ok: false, reason: `read returned ${showState(asState(value))} but the value was ${showState(state)}` };
    case 'write':
      return { ok: true, next: asState(value) };
    case 'cas': {
      const [expected, next] = asCas(value);
      return expected === state
        ? { ok: true, next }
        : { ok: false, reason: `cas expected ${showState(expected)} but the value was ${showState(state)}` };
    }
    case 'delete':
      // A delete that returned ok leaves the key absent, whether or not it existed.
      return { ok: true, next: null };
  }
}

export function showState(state: KvState): string {
  return state === null ? 'absent' : JSON.stringify(state);
}

function asState(value: EventValue): KvState {
  return typeof value === 'string' ? value : null;
}

function asCas(value: EventValue): readonly [KvState, string] {
  return Array.isArray(value) ? (value as readonly [KvState, string]) : [null, ''];
}
