/**
 * What the power failures of a chaos run discarded, from the nemesis events in its history
 * (harness/nemesis/power-loss-faults.ts records each replica's PowerLossResult): for the printed
 * summary and report.html.
 */
import type { HistoryEntry } from './history.js';

export interface PowerLossSummary {
  /** Power failures that ran, and how many of them took the whole cluster. */
  failures: number;
  wholeCluster: number;
  /** Replicas that lost power, counted once per failure. */
  replicaPowerOffs: number;
  /** Unsynced data discarded (bytes of 4 KiB pages, files) and namespace changes undone. */
  droppedBytes: number;
  droppedFiles: number;
  undoneOps: number;
  undoErrors: number;
  /** Power failures whose start failed (the error is in the history). */
  errors: number;
}

export function summarizePowerLosses(entries: readonly HistoryEntry[]): PowerLossSummary | null {
  const starts = entries.filter((e) => e.process === 'nemesis' && (e.f === 'start-power-loss' || e.f === 'start-power-loss-all'));
  if (starts.length === 0) return null;
  const s: PowerLossSummary = { failures: starts.length, wholeCluster: 0, replicaPowerOffs: 0, droppedBytes: 0, droppedFiles: 0, undoneOps: 0, undoErrors: 0, errors: 0 };
  for (const e of starts) {
    const v = (e.value ?? {}) as { wholeCluster?: boolean; lost?: Record<string, Partial<Record<keyof PowerLossSummary, number>>>; error?: string };
    if (v.error !== undefined) s.errors++;
    if (v.wholeCluster === true) s.wholeCluster++;
    for (const lost of Object.values(v.lost ?? {})) {
      s.replicaPowerOffs++;
      s.droppedBytes += lost.droppedBytes ?? 0;
      s.droppedFiles += lost.droppedFiles ?? 0;
      s.undoneOps += lost.undoneOps ?? 0;
      s.undoErrors += lost.undoErrors ?? 0;
    }
  }
  return s;
}

export function describePowerLosses(s: PowerLossSummary): string {
  const kib = (s.droppedBytes / 1024).toFixed(0);
  const failed = s.errors > 0 ? `; ${s.errors} failed to start (see the history)` : '';
  const undoErrors = s.undoErrors > 0 ? `, ${s.undoErrors} of which could not be undone` : '';
  return (
    `power loss: ${s.failures} power failure${s.failures === 1 ? '' : 's'} (${s.wholeCluster} of the whole cluster; ${s.replicaPowerOffs} replica power-offs); ` +
    `discarded ${kib} KiB of unsynced data in ${s.droppedFiles} files and ${s.undoneOps} unsynced namespace changes${undoErrors}${failed}`
  );
}
