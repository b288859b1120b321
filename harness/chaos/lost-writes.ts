/**
 * The no-lost-writes checker. After the final heal every replica is read locally
 * (`?consistency=stale`, once the cluster converged); then, per key:
 *
 * - the replicas must agree on the final value (`divergent` otherwise);
 * - the final value must have been written by some write or cas that was ok or info, or be
 *   null (never written, or deleted): a value written only by failed operations, or never
 *   written at all, is `unexplained`;
 * - an acknowledged (ok) write or cas whose value is not the final value is lost unless some
 *   other write, cas or delete on that key (ok or info; failed ones never happened) could have
 *   taken effect after it, i.e. did not complete before the acked write was invoked.
 *
 * This is sound: it reports only what no linearization can explain. Reads are not needed.
 */
import type { Operation } from './history.js';

export interface FinalValues {
  /** Per key, per replica id: the value it holds locally (null when absent). */
  byKey: Record<string, Record<string, string | null>>;
  /** False when the replicas still disagreed at the deadline. */
  converged: boolean;
}

export interface LostWrite {
  key: string;
  process: number;
  f: 'write' | 'cas';
  value: string;
  invokeNs: number;
  completeNs: number;
  finalValue: string | null;
}

export interface LostWritesResult {
  valid: boolean;
  acknowledgedWrites: number;
  lost: LostWrite[];
  /** Keys whose replicas disagree. */
  divergent: Array<{ key: string; values: Record<string, string | null> }>;
  /** Keys whose final value no ok or info write/cas wrote. */
  unexplained: Array<{ key: string; finalValue: string | null }>;
}

const writtenValue = (op: Operation): string | null =>
  op.f === 'write' ? (op.value as string) : op.f === 'cas' ? (op.value as [string | null, string])[1] : null;

export function checkLostWrites(ops: readonly Operation[], finals: FinalValues): LostWritesResult {
  const result: LostWritesResult = { valid: true, acknowledgedWrites: 0, lost: [], divergent: [], unexplained: [] };
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    if (op.f === 'read') continue;
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  const keys = new Set([...byKey.keys(), ...Object.keys(finals.byKey)]);
  for (const key of [...keys].sort()) {
    const perReplica = finals.byKey[key] ?? {};
    const values = new Set(Object.values(perReplica));
    if (values.size > 1) result.divergent.push({ key, values: perReplica });
    const keyOps = byKey.get(key) ?? [];
    // Judge against every value some replica holds: each must be explained.
    const finalsHere = values.size === 0 ? [null] : [...values];
    for (const finalValue of finalsHere) {
      const writer = keyOps.find((op) => op.type !== 'fail' && writtenValue(op) === finalValue);
      if (finalValue !== null && writer === undefined) result.unexplained.push({ key, finalValue });
    }
    for (const w of keyOps) {
      const value = writtenValue(w);
      if (w.type !== 'ok' || value === null) continue;
      result.acknowledgedWrites++;
      if (finalsHere.every((v) => v === value)) continue;
      const overwritable = keyOps.some((o) => o !== w && (o.type === 'info' || (o.type === 'ok' && o.completeNs > w.invokeNs)));
      if (!overwritable) {
        for (const finalValue of finalsHere.filter((v) => v !== value)) {
          result.lost.push({ key, process: w.process, f: w.f as 'write' | 'cas', value, invokeNs: w.invokeNs, completeNs: w.completeNs, finalValue });
        }
      }
    }
  }
  result.valid = result.lost.length === 0 && result.divergent.length === 0 && result.unexplained.length === 0 && finals.converged;
  return result;
}
