import type { PbftStatus, SlotPhase } from '../../protocols/pbft/types.js';
import { DEBUG_LOG_TAIL, type PbftDebugState, type PbftSeqEntry } from '../debug/debug-state.js';

/**
 * The PBFT replica's answer to GET /admin/debug/state (`--debug-api`, the dashboard): the card,
 * timeline and primary from status(), and `log` from the correct core's `slotPhases()` (the
 * newest DEBUG_LOG_TAIL sequence numbers and the phase each reached here, OSDI §4.2).
 */
export function pbftDebugState(id: string, s: PbftStatus, replicas: readonly string[], slots: readonly SlotPhase[] = []): PbftDebugState {
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
    log: slots.slice(-DEBUG_LOG_TAIL).map(toSeqEntry),
  };
}

function toSeqEntry(slot: SlotPhase): PbftSeqEntry {
  return { seq: slot.sequence, view: slot.view, phase: slot.phase, executed: slot.executed, digest: slot.digest.slice(0, 8) };
}
