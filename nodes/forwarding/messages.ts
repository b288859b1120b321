/**
 * Client requests a follower forwards to its leader over the replica transport, and the leader's
 * answers (Raft dissertation §6.2: a server that is not the leader passes a request on; etcd sends
 * such proposals as raft messages, `MsgProp`). One message carries every request that arrived at
 * the follower in one turn of its event loop, so forwarding costs a frame per batch, not an HTTP
 * request per client request.
 *
 * - A write is a command for the leader to propose; the leader answers where it put it (`at`: Raft's
 *   index and term, Multi-Paxos's slot, ballot and position in the slot's batch) or why it refused
 *   (then the command was certainly not proposed). The follower's client waits for the follower
 *   itself to apply that position, and gets the result its own state machine computes.
 * - A read asks the leader for a read index (dissertation §6.4, "follower reads"): the leader
 *   confirms its leadership as for its own reads and answers the index; the follower serves the read
 *   from its own state once it has applied that far. `lease` asks for a lease read (§6.4.1).
 *
 * These messages are the runtime's, not the cores': the leader's runtime calls its core's propose
 * and readIndex exactly as for its own clients.
 */

export type Refusal = 'not-leader' | 'overloaded';

export interface ForwardRequest {
  type: 'Forward';
  from: string;
  to: string;
  writes: Array<{ id: number; data: Uint8Array }>;
  reads: Array<{ id: number; lease: boolean }>;
}

export type WriteAnswer<P> = { id: number; at: P } | { id: number; refused: Refusal; leader: string | null };
export type ReadAnswer = { id: number; index: number } | { id: number; refused: 'not-leader'; leader: string | null };

export interface ForwardReply<P> {
  type: 'ForwardReply';
  from: string;
  to: string;
  writes: Array<WriteAnswer<P>>;
  reads: ReadAnswer[];
}

export type ForwardMessage<P> = ForwardRequest | ForwardReply<P>;

/** Bounds on what one message may carry (a peer is authenticated, but never trusted to be sane). */
export const MAX_FORWARDED_PER_MESSAGE = 20_000;

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isList = (v: unknown): v is unknown[] => Array.isArray(v) && v.length <= MAX_FORWARDED_PER_MESSAGE;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Does a decoded peer frame look like a forwarding message? `isAt` checks the protocol's positions. */
export function isForwardMessage<P>(value: unknown, isAt: (v: unknown) => v is P): value is ForwardMessage<P> {
  if (!isRecord(value) || !isId(value['from']) || !isId(value['to'])) return false;
  const { writes, reads } = value;
  if (!isList(writes) || !isList(reads)) return false;
  if (value['type'] === 'Forward') {
    return (
      writes.every((w) => isRecord(w) && isCount(w['id']) && w['data'] instanceof Uint8Array) &&
      reads.every((r) => isRecord(r) && isCount(r['id']) && typeof r['lease'] === 'boolean')
    );
  }
  if (value['type'] !== 'ForwardReply') return false;
  const refusal = (a: Record<string, unknown>): boolean =>
    (a['refused'] === 'not-leader' || a['refused'] === 'overloaded') && (a['leader'] === null || isId(a['leader']));
  return (
    writes.every((w) => isRecord(w) && isCount(w['id']) && ('at' in w ? isAt(w['at']) : refusal(w))) &&
    reads.every((r) => isRecord(r) && isCount(r['id']) && ('index' in r ? isCount(r['index']) : refusal(r)))
  );
}
