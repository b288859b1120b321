import type { PaxosMessage } from '../../protocols/multipaxos/types.js';

type Rec = Record<string, unknown>;

const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
/**
 * Slots, rounds and counters fit in 52 bits: the core counts up from any it accepts (slot + 1,
 * round + 1), and above 2^53 `slot++` stops changing the number (a loop over slots never ends).
 * No real cluster gets near 2^52; a peer that sends it has a bug.
 */
export const MAX_SLOT_OR_ROUND = 2 ** 52;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_SLOT_OR_ROUND;
const isSlot = (v: unknown): v is number => isCount(v) && v >= 1;
/** A ballot's leader is '' only in the zero ballot (a fresh acceptor's ballot_num). */
const isBallot = (v: unknown): boolean =>
  isRecord(v) && isCount(v['round']) && typeof v['leader'] === 'string' && v['leader'].length <= 256 && (v['leader'] !== '' || v['round'] === 0);
const isCommand = (v: unknown): boolean => {
  if (!isRecord(v) || !isBallot(v['origin']) || !Array.isArray(v['payloads'])) return false;
  const payloads = v['payloads'] as unknown[];
  if (v['kind'] === 'noop') return payloads.length === 0;
  return v['kind'] === 'batch' && payloads.every((p) => p instanceof Uint8Array);
};
const isPValue = (v: unknown): boolean => isRecord(v) && isBallot(v['ballot']) && isSlot(v['slot']) && isCommand(v['command']);
const isDecision = (v: unknown): boolean => isRecord(v) && isSlot(v['slot']) && isCommand(v['command']);
const everyOf = (v: unknown, check: (x: unknown) => boolean): boolean => Array.isArray(v) && v.every(check);

/**
 * Shape check of a decoded peer frame before it reaches the Multi-Paxos core, which trusts its
 * input (protocols/multipaxos/README.md, Deviations). Peers are authenticated, but a replica never
 * crashes on input from outside (docs/design.md §3.7): ids, ballots, slots and counters must be what
 * the core's types say, slots and rounds non-negative safe integers, payloads bytes.
 */
export function isPaxosMessage(value: unknown): value is PaxosMessage {
  if (!isRecord(value) || !isId(value['from']) || !isId(value['to'])) return false;
  const m = value;
  switch (m['type']) {
    case 'P1a':
      return isBallot(m['ballot']) && isSlot(m['fromSlot']);
    case 'P1b':
      return isBallot(m['request']) && isBallot(m['ballotNum']) && everyOf(m['accepted'], isPValue) && isCount(m['compactedTo']);
    case 'P2a':
      return isPValue(m['pvalue']);
    case 'P2b':
      return isBallot(m['ballotNum']) && isSlot(m['slot']);
    case 'Decision':
      return everyOf(m['decisions'], isDecision);
    case 'Heartbeat':
      return isBallot(m['ballot']) && isSlot(m['slotOut']) && isCount(m['readRound']) && isCount(m['gcSlot']);
    case 'HeartbeatAck':
      return isBallot(m['ballotNum']) && isCount(m['readRound']) && isCount(m['applied']);
    case 'CatchUp':
      return isSlot(m['fromSlot']);
    case 'SnapshotOffer':
      return isSlot(m['slot']) && isSlot(m['chunks']);
    case 'SnapshotFetch':
      return isSlot(m['slot']) && isCount(m['chunk']);
    case 'SnapshotChunk':
      return isSlot(m['slot']) && isCount(m['chunk']) && isSlot(m['chunks']) && m['chunk'] < m['chunks'] && m['data'] instanceof Uint8Array;
    default:
      return false;
  }
}
