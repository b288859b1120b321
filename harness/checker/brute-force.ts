/**
 * A deliberately naive linearizability check for tiny single-key histories: try every order of
 * every subset that contains all ok operations. Only for cross-checking key-search.ts in tests.
 */
import { stepKv } from './kv-model.js';
import type { KvState } from './kv-model.js';
import type { Operation } from './operations.js';

export function bruteForceLinearizable(ops: readonly Operation[]): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  const okCount = ops.filter((op) => op.status === 'ok').length;
  const extend = (state: KvState, placedOk: number): boolean => {
    if (placedOk === okCount) return true;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (used[i]) continue;
      // Real-time order: every operation that returned before this one was invoked comes first.
      const waiting = ops.some((other, j) => !used[j] && other.status === 'ok' && other.returnTime < op.invokeTime);
      if (waiting) continue;
      const result = stepKv(state, op.f, op.value);
      if (!result.ok) continue;
      used[i] = true;
      const found = extend(result.next, placedOk + (op.status === 'ok' ? 1 : 0));
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return extend(null, 0);
}
