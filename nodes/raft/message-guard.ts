import type { RaftMessage } from '../../protocols/raft/types.js';

const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

function isEntry(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as Record<string, unknown>;
  return isInt(x['index']) && isInt(x['term']) && (x['kind'] === 'noop' || x['kind'] === 'command') &&
    (x['data'] === null || x['data'] instanceof Uint8Array);
}

/**
 * Shape check of a decoded peer message before it reaches the core. Peers are authenticated,
 * but a replica never crashes on input from outside (DESIGN.md §3): a frame that decodes to the
 * wrong shape is dropped here rather than trusted.
 */
export function isRaftMessage(value: unknown): value is RaftMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  if (!isId(m['from']) || !isId(m['to']) || !isInt(m['term'])) return false;
  switch (m['type']) {
    case 'RequestVote':
      return isInt(m['lastLogIndex']) && isInt(m['lastLogTerm']) && typeof m['preVote'] === 'boolean';
    case 'RequestVoteResponse':
      return typeof m['voteGranted'] === 'boolean' && typeof m['preVote'] === 'boolean';
    case 'AppendEntries':
      return isInt(m['prevLogIndex']) && isInt(m['prevLogTerm']) && isInt(m['leaderCommit']) && isInt(m['readRound']) &&
        Array.isArray(m['entries']) && m['entries'].every(isEntry);
    case 'AppendEntriesResponse':
      return typeof m['success'] === 'boolean' && isInt(m['matchIndex']) && isInt(m['conflictIndex']) &&
        isInt(m['conflictTerm']) && isInt(m['readRound']);
    default:
      return false;
  }
}
