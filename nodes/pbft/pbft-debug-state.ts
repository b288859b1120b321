import type { PbftStatus } from '../../protocols/pbft/types.js';
import type { PbftDebugState } from '../debug/debug-state.js';

/**
 * The PBFT replica's answer to GET /admin/debug/state (`--debug-api`, the dashboard). The core's
 * public surface has no per-sequence-number phases yet, so `log` is empty; the card, timeline and
 * primary come from status().
 */
export function pbftDebugState(id: string, s: PbftStatus, replicas: readonly string[]): PbftDebugState {
  const primary = replicas[s.primary] ?? String(s.primary);
  return {
    protocol: 'pbft',
    id,
    pid: process.pid,
    role: s.viewChanging ? 'view-changing' : s.isPrimary ? 'primary' : 'backup',
    leader: s.viewChanging ? null : primary,
    epoch: s.view,
    epochLabel: `view ${s.view}`,
    commitIndex: s.lastExecuted,
    appliedIndex: s.lastExecuted,
    timeMs: Date.now(),
    view: s.view,
    primary,
    stableCheckpoint: s.lastStableCheckpoint,
    highWatermark: s.highWatermark,
    viewChanging: s.viewChanging,
    log: [],
  };
}
