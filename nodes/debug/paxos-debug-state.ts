import type { Ballot, Command, PaxosStatus, PValue } from '../../protocols/multipaxos/types.js';
import { DEBUG_LOG_TAIL, type PaxosDebugState, type PaxosSlotEntry } from './debug-state.js';

/** The read-only part of the Multi-Paxos core the debug state needs (MultiPaxosNode has it). */
export interface PaxosDebugView {
  status(): PaxosStatus;
  decisionAt(slot: number): Command | undefined;
  acceptedAt(slot: number): PValue | undefined;
}

/** The Multi-Paxos replica's answer to GET /admin/debug/state. */
export function paxosDebugState(core: PaxosDebugView, commitIndex: number, appliedIndex: number): PaxosDebugState {
  const s = core.status();
  return {
    protocol: 'multipaxos',
    id: s.id,
    pid: process.pid,
    role: s.role,
    leader: s.leader,
    epoch: s.ballot.round,
    epochLabel: `ballot ${s.ballot.round}.${s.ballot.leader}`,
    commitIndex,
    appliedIndex,
    timeMs: Date.now(),
    ballot: plain(s.ballot),
    slotIn: s.slotIn,
    slotOut: s.slotOut,
    compactedTo: s.compactedTo,
    log: slotTail(core, s, commitIndex),
  };
}

/** The newest slots this replica knows of: decided, or accepted and still open. */
function slotTail(core: PaxosDebugView, s: PaxosStatus, commitIndex: number): PaxosSlotEntry[] {
  let last = Math.max(s.slotIn - 1, commitIndex, s.compactedTo);
  // A follower's slotIn is stale: look past the last known slot for newer ones (bounded).
  for (let n = 0; n < 4096 && entryAt(core, last + 1) !== null; n++) last++;
  const out: PaxosSlotEntry[] = [];
  for (let slot = Math.max(s.compactedTo + 1, last - DEBUG_LOG_TAIL + 1, 1); slot <= last; slot++) {
    const e = entryAt(core, slot);
    if (e !== null) out.push(e);
  }
  return out;
}

function entryAt(core: PaxosDebugView, slot: number): PaxosSlotEntry | null {
  const decided = core.decisionAt(slot);
  if (decided !== undefined) return { slot, ballot: plain(decided.origin), status: 'decided', kind: decided.kind, commands: decided.payloads.length };
  const pv = core.acceptedAt(slot);
  if (pv === undefined) return null;
  return { slot, ballot: plain(pv.ballot), status: 'accepted', kind: pv.command.kind, commands: pv.command.payloads.length };
}

const plain = (b: Ballot) => ({ round: b.round, leader: b.leader });
