/**
 * How the chaos verdict treats `--read-consistency stale`.
 *
 * A stale read (`?consistency=stale`) answers from the replica's own applied state, without asking
 * anyone: it may return a value that was overwritten long ago, so a history with stale reads is
 * not expected to be linearizable, and calling that a violation would say nothing. With stale
 * reads, therefore:
 *
 * - linearizability is checked on the writes, cas and deletes alone (the reads are left out; a
 *   cas still reads the state it compares, through the log);
 * - every ok stale read must have returned a value that some write or cas that did not fail had
 *   been invoked with before the read returned, or null: a replica's state only ever holds values
 *   the log gave it (a "phantom" value is a violation);
 * - for information, the whole history, reads included, is checked too, and the report says
 *   whether the stale reads happened to be linearizable. That result does not change the verdict.
 *
 * Lease reads (`lease`) are meant to be linearizable, so they are checked like ReadIndex reads.
 */
import type { Verdict } from '../checker/check-history.js';
import type { ClientEvent, Operation } from './history.js';

export interface PhantomRead {
  process: number;
  key: string;
  value: string;
  invokeNs: number;
  completeNs: number;
  node?: string;
}

export interface StaleReadsResult {
  /** Ok reads in the history, none of them checked for linearizability. */
  reads: number;
  /** Reads that returned a value nobody wrote: a violation. */
  phantom: PhantomRead[];
  /** Whether the whole history, reads included, is linearizable (information only). */
  withReads: Verdict | 'skipped';
}

/** The history without its reads (invokes and completions). */
export function withoutReads(events: readonly ClientEvent[]): ClientEvent[] {
  return events.filter((e) => e.f !== 'read');
}

/** Ok reads of a value no write or cas (ok or info) had been invoked with before the read returned. */
export function phantomReads(ops: readonly Operation[]): PhantomRead[] {
  const firstWrite = new Map<string, number>();
  for (const op of ops) {
    if (op.type === 'fail' || (op.f !== 'write' && op.f !== 'cas')) continue;
    const value = op.f === 'cas' ? (op.value as [string | null, string])[1] : (op.value as string);
    const k = `${op.key}\u0000${value}`;
    firstWrite.set(k, Math.min(firstWrite.get(k) ?? Number.POSITIVE_INFINITY, op.invokeNs));
  }
  const phantom: PhantomRead[] = [];
  for (const op of ops) {
    if (op.f !== 'read' || op.type !== 'ok' || op.result === null) continue;
    const value = op.result as string;
    const written = firstWrite.get(`${op.key}\u0000${value}`);
    if (written !== undefined && written <= op.completeNs) continue;
    const p: PhantomRead = { process: op.process, key: op.key, value, invokeNs: op.invokeNs, completeNs: op.completeNs };
    if (op.node !== undefined) p.node = op.node;
    phantom.push(p);
  }
  return phantom;
}

/** The stale-read part of a run's results; `checkAll` checks the whole history, reads included. */
export function checkStaleReads(ops: readonly Operation[], checkAll: () => Verdict | 'skipped'): StaleReadsResult {
  return {
    reads: ops.filter((op) => op.f === 'read' && op.type === 'ok').length,
    phantom: phantomReads(ops),
    withReads: checkAll(),
  };
}

/** One line for the chaos command's summary. */
export function staleReadsSummary(s: StaleReadsResult): string {
  const withReads = s.withReads === true ? 'linearizable' : s.withReads === false ? 'not linearizable, as stale reads may be' : s.withReads;
  return `stale reads: ${s.reads} not checked for linearizability (with them the history is ${withReads}); ${s.phantom.length === 0 ? 'none' : s.phantom.length} returned a value nobody wrote`;
}
