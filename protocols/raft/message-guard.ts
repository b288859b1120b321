/**
 * Cheap shape checks on messages from peers. A consensus core must never crash on what a buggy
 * peer sends (docs/design.md §2.4); a message that fails these checks is ignored.
 */
import { decodeMembership, isMembership } from './membership.js';
import type { AppendEntries, LogEntry, RaftMessage } from './types.js';

/**
 * Terms and indices fit in 52 bits: the core counts up from any term or index it accepts
 * (term + 1 to campaign, lastIndex + 1 to append), and above 2^53 that loses precision (an
 * AppendEntries with two entries at one index, a term that does not grow). No real cluster gets
 * near 2^52; a peer that sends it has a bug.
 */
export const MAX_TERM_OR_INDEX = 2 ** 52;

/** A snapshot in more chunks than this is not one a runtime made (a chunk is about a megabyte). */
export const MAX_SNAPSHOT_CHUNKS = 2 ** 31;

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TERM_OR_INDEX;
}

export function isWellFormed(m: RaftMessage): boolean {
  if (!isIndex(m.term)) return false;
  switch (m.type) {
    case 'RequestVote':
      return isIndex(m.lastLogIndex) && isIndex(m.lastLogTerm) && typeof m.preVote === 'boolean' &&
        (m.leadershipTransfer === undefined || typeof m.leadershipTransfer === 'boolean');
    case 'RequestVoteResponse':
      return typeof m.voteGranted === 'boolean' && typeof m.preVote === 'boolean';
    case 'AppendEntries':
      return isWellFormedAppend(m);
    case 'AppendEntriesResponse':
      return isIndex(m.matchIndex) && isIndex(m.conflictIndex) && isIndex(m.conflictTerm) && isIndex(m.readRound) &&
        isIndex(m.incarnation);
    case 'TimeoutNow':
      return true;
    case 'InstallSnapshot':
      return isIndex(m.lastIncludedIndex) && m.lastIncludedIndex > 0 && isIndex(m.lastIncludedTerm) && m.lastIncludedTerm > 0 &&
        m.lastIncludedTerm <= m.term && isIndex(m.chunk) && isIndex(m.chunks) && m.chunk < m.chunks && m.chunks <= MAX_SNAPSHOT_CHUNKS &&
        m.data instanceof Uint8Array && isIndex(m.readRound) && isMembership(m.membership);
    case 'InstallSnapshotResponse':
      return isIndex(m.lastIncludedIndex) && isIndex(m.nextChunk) && typeof m.done === 'boolean' && isIndex(m.readRound) &&
        isIndex(m.incarnation);
    default: {
      const unknown: never = m;
      void unknown;
      return false;
    }
  }
}

/** Entries must follow prevLogIndex contiguously, with terms that never decrease nor pass m.term. */
function isWellFormedAppend(m: AppendEntries): boolean {
  if (!isIndex(m.prevLogIndex) || !isIndex(m.prevLogTerm) || !isIndex(m.leaderCommit) || !isIndex(m.readRound)) {
    return false;
  }
  if (!Array.isArray(m.entries)) return false;
  let term = m.prevLogTerm;
  for (let k = 0; k < m.entries.length; k++) {
    const entry = m.entries[k];
    if (entry === undefined || !isWellFormedEntry(entry)) return false;
    if (entry.index !== m.prevLogIndex + 1 + k || entry.term < term || entry.term > m.term) return false;
    term = entry.term;
  }
  return true;
}

function isWellFormedEntry(entry: LogEntry): boolean {
  if (!isIndex(entry.index) || !isIndex(entry.term) || entry.term === 0) return false;
  if (entry.kind === 'noop') return entry.data === null;
  if (!(entry.data instanceof Uint8Array)) return false;
  if (entry.kind === 'config') return decodeMembership(entry.data) !== null; // dissertation §4.1
  return entry.kind === 'command';
}
