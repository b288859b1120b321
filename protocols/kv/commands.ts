/**
 * The key-value commands every protocol replicates, and their results. The same state machine
 * sits behind Raft, Multi-Paxos and PBFT, so the three can be compared on equal terms.
 */

export type KvOperation =
  | { op: 'put'; key: string; value: string }
  | { op: 'delete'; key: string }
  | { op: 'cas'; key: string; expected: string | null; value: string }
  /** A read ordered through the log (used where a protocol linearizes reads that way). */
  | { op: 'get'; key: string };

/**
 * A client session tag (Raft dissertation §6.3): a client numbers its requests, and the state
 * machine remembers the result of each so that a retried request is not applied twice.
 */
export interface SessionTag {
  clientId: string;
  seq: number;
}

export interface KvCommand {
  operation: KvOperation;
  session: SessionTag | null;
}

export type KvResult =
  | { kind: 'put' }
  | { kind: 'delete'; existed: boolean }
  | { kind: 'cas'; ok: true }
  | { kind: 'cas'; ok: false; current: string | null }
  | { kind: 'get'; value: string | null }
  /** The session's window no longer holds this request's result (dissertation §6.3). */
  | { kind: 'session-expired' };
