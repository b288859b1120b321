import { isWellFormed } from '../../protocols/raft/message-guard.js';
import type { RaftMessage } from '../../protocols/raft/types.js';

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

/**
 * Shape check of a decoded peer frame before it reaches the core. Peers are authenticated, but a
 * replica never crashes on input from outside (docs/design.md §3.7): a frame that decodes to something
 * other than a Raft message is dropped here. The field-by-field checks are the core's own
 * (protocols/raft/message-guard.ts); this adds what the wire can get wrong before them.
 */
export function isRaftMessage(value: unknown): value is RaftMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const m = value as Record<string, unknown>;
  return isId(m['from']) && isId(m['to']) && typeof m['type'] === 'string' && isWellFormed(m as unknown as RaftMessage);
}
