import type { LogEntry, RaftStatus } from '../../protocols/raft/types.js';
import { DEBUG_LOG_TAIL, type RaftDebugState } from './debug-state.js';

/** The read-only part of the Raft core the debug state needs (RaftNode has it). */
export interface RaftDebugView {
  status(): RaftStatus;
  entryAt(index: number): LogEntry | undefined;
}

/** The Raft replica's answer to GET /admin/debug/state. */
export function raftDebugState(core: RaftDebugView, appliedIndex: number): RaftDebugState {
  const s = core.status();
  const log: RaftDebugState['log'] = [];
  const first = Math.max(s.snapshotIndex + 1, s.lastLogIndex - DEBUG_LOG_TAIL + 1, 1);
  for (let i = first; i <= s.lastLogIndex; i++) {
    const e = core.entryAt(i);
    if (e !== undefined) log.push({ index: e.index, term: e.term, kind: e.kind });
  }
  return {
    protocol: 'raft',
    id: s.id,
    pid: process.pid,
    role: s.role,
    leader: s.leader,
    epoch: s.term,
    epochLabel: `term ${s.term}`,
    commitIndex: s.commitIndex,
    appliedIndex,
    timeMs: Date.now(),
    term: s.term,
    votedFor: s.votedFor,
    lastLogIndex: s.lastLogIndex,
    snapshotIndex: s.snapshotIndex,
    log,
  };
}
