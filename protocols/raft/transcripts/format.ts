/**
 * How transcripts print Raft's vocabulary: one line per message, `index@term` per log entry, one
 * line of status per replica. Field names follow the Raft paper (Ongaro and Ousterhout 2014,
 * Figure 2): `prev=(prevLogIndex,prevLogTerm)`, `commit=leaderCommit`, `last=(lastLogIndex,lastLogTerm)`.
 * Fields that only the runtime cares about (readRound, incarnation, snapshot bytes) are left out.
 */
import type { HardState, LogEntry, NodeId, RaftMessage, Role } from '../types.js';

/** A message's kind as printed and as matched by `type=`: a pre-vote (dissertation §9.6) is `PreVote`. */
export function kindOf(m: RaftMessage): string {
  if (m.type === 'RequestVote' && m.preVote) return 'PreVote';
  if (m.type === 'RequestVoteResponse' && m.preVote) return 'PreVoteResponse';
  return m.type;
}

/** `3@2` for a no-op, `3@2=x` for the command `x`, `3@2(config)` for a configuration entry. */
export function formatEntry(entry: LogEntry): string {
  const at = `${entry.index}@${entry.term}`;
  if (entry.kind === 'config') return `${at}(config)`;
  if (entry.kind === 'command' && entry.data !== null) return `${at}=${new TextDecoder().decode(entry.data)}`;
  return at;
}

export function formatEntries(entries: readonly LogEntry[]): string {
  return `[${entries.map(formatEntry).join(' ')}]`;
}

/** One message on one line, e.g. `1->2 AppendEntries term=2 prev=(3,1) entries=[4@2] commit=3`. */
export function formatMessage(m: RaftMessage): string {
  return `${m.from}->${m.to} ${kindOf(m)} term=${m.term}${messageFields(m)}`;
}

function messageFields(m: RaftMessage): string {
  switch (m.type) {
    case 'RequestVote':
      return ` last=(${m.lastLogIndex},${m.lastLogTerm})${m.leadershipTransfer === true ? ' transfer' : ''}`;
    case 'RequestVoteResponse':
      return m.voteGranted ? ' granted' : ' rejected';
    case 'AppendEntries':
      return ` prev=(${m.prevLogIndex},${m.prevLogTerm}) entries=${formatEntries(m.entries)} commit=${m.leaderCommit}`;
    case 'AppendEntriesResponse':
      // The rejection hints of §5.3's last paragraphs: the follower's conflicting term and its first index.
      return m.success ? ` ok match=${m.matchIndex}` : ` reject conflictIndex=${m.conflictIndex} conflictTerm=${m.conflictTerm}`;
    case 'TimeoutNow':
      return '';
    case 'InstallSnapshot':
      return ` snapshot=(${m.lastIncludedIndex},${m.lastIncludedTerm}) chunk=${m.chunk + 1}/${m.chunks}`;
    case 'InstallSnapshotResponse':
      return ` snapshot=${m.lastIncludedIndex} ${m.done ? 'done' : `next=${m.nextChunk}`}`;
    default: {
      const unknown: never = m;
      return unknown;
    }
  }
}

/** What `status` prints for one replica: Figure 2's state, and the log as index@term. */
export interface StatusLine {
  id: NodeId;
  role: Role | 'down';
  hardState: HardState;
  commitIndex: number;
  log: readonly LogEntry[];
}

export function formatStatus(s: StatusLine): string {
  const last = s.log.at(-1)?.index ?? 0;
  const vote = s.hardState.votedFor ?? '-';
  return `${s.id} ${s.role} term=${s.hardState.currentTerm} vote=${vote} last=${last} commit=${s.commitIndex} log=${formatEntries(s.log)}`;
}
