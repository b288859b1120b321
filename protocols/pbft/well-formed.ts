/**
 * Structural checks on messages from the network: a Byzantine replica may send anything, and a
 * malformed message must be dropped and counted, never crash the core (docs/design.md §2.4).
 */
import type { KvOperation } from '../kv/commands.js';
import type { Batch, BatchEntry, Checkpoint, ClientRequest, PbftMessage, PreparedEntry, ViewChange } from './types.js';

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);
const isNat = (x: unknown): x is number => isInt(x) && x >= 0;
const isStr = (x: unknown): x is string => typeof x === 'string';
const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

function isOperation(x: unknown): x is KvOperation {
  if (!isObj(x) || !isStr(x['key'])) return false;
  switch (x['op']) {
    case 'put':
      return isStr(x['value']);
    case 'cas':
      return isStr(x['value']) && (x['expected'] === null || isStr(x['expected']));
    case 'delete':
    case 'get':
      return true;
    default:
      return false;
  }
}

export function isRequest(x: unknown): x is ClientRequest {
  return isObj(x) && isStr(x['clientId']) && isNat(x['seq']) && isInt(x['origin']) && isOperation(x['operation']);
}

export function isBatch(x: unknown): x is Batch {
  return Array.isArray(x) && x.every(isRequest);
}

const isEntry = (x: unknown): x is PreparedEntry => isObj(x) && isNat(x['sequence']) && isStr(x['digest']) && isNat(x['view']);
const isBatchEntry = (x: unknown): x is BatchEntry => isObj(x) && isNat(x['sequence']) && isStr(x['digest']) && isBatch(x['batch']);

export function isCheckpoint(x: unknown): x is Checkpoint {
  return isObj(x) && x['type'] === 'Checkpoint' && isNat(x['sequence']) && isStr(x['digest']) && isNat(x['replica']) && isBytes(x['auth']);
}

/** A partition-tree node (TOCS §6.2 meta-data). */
const isTreeNode = (x: unknown): x is Record<string, unknown> => isObj(x) && isNat(x['level']) && isNat(x['index']);

function isViewChange(x: unknown): x is ViewChange {
  return (
    isObj(x) &&
    x['type'] === 'ViewChange' &&
    isNat(x['view']) &&
    isNat(x['h']) &&
    isStr(x['checkpointDigest']) &&
    Array.isArray(x['checkpointProof']) &&
    x['checkpointProof'].every(isCheckpoint) &&
    Array.isArray(x['prepared']) &&
    x['prepared'].every(isEntry) &&
    Array.isArray(x['prePrepared']) &&
    x['prePrepared'].every(isEntry) &&
    Array.isArray(x['batches']) &&
    x['batches'].every(isBatchEntry)
  );
}

/** True when `m` has the shape its `type` promises (auth and sender included). */
export function wellFormed(m: unknown): m is PbftMessage {
  if (!isObj(m) || !isNat(m['replica']) || !isBytes(m['auth'])) return false;
  switch (m['type']) {
    case 'Request':
    case 'ReadRequest':
      return isRequest(m['request']);
    case 'PrePrepare':
      return isNat(m['view']) && isNat(m['sequence']) && isStr(m['digest']) && isBatch(m['batch']);
    case 'Prepare':
    case 'Commit':
      return isNat(m['view']) && isNat(m['sequence']) && isStr(m['digest']);
    case 'Reply':
      return isNat(m['view']) && Array.isArray(m['replies']) && m['replies'].every((e) => isObj(e) && isStr(e['clientId']) && isNat(e['seq']) && isObj(e['result']));
    case 'ReadReply':
      return isStr(m['clientId']) && isNat(m['seq']) && isObj(m['result']);
    case 'Checkpoint':
      return isCheckpoint(m);
    case 'ViewChange':
      return isViewChange(m);
    case 'NewView':
      return (
        isNat(m['view']) &&
        isNat(m['h']) &&
        Array.isArray(m['viewChanges']) &&
        m['viewChanges'].every(isViewChange) &&
        Array.isArray(m['chosen']) &&
        m['chosen'].every((c) => isObj(c) && isNat(c['sequence']) && isStr(c['digest'])) &&
        Array.isArray(m['batches']) &&
        m['batches'].every(isBatchEntry)
      );
    case 'Fetch':
      return isNat(m['from']) && isNat(m['h']);
    case 'FetchReply': {
      const stable = m['stable'];
      const stableOk =
        stable === null ||
        (isObj(stable) && isNat(stable['sequence']) && isStr(stable['digest']) && Array.isArray(stable['proof']) && stable['proof'].every(isCheckpoint));
      return Array.isArray(m['entries']) && m['entries'].every(isBatchEntry) && stableOk;
    }
    case 'FetchBatches':
      return Array.isArray(m['wanted']) && m['wanted'].every((e) => isObj(e) && isNat(e['sequence']) && isStr(e['digest']));
    case 'Batches':
      return Array.isArray(m['entries']) && m['entries'].every(isBatchEntry);
    case 'FetchMeta':
      return isNat(m['sequence']) && isStr(m['digest']) && Array.isArray(m['nodes']) && m['nodes'].every(isTreeNode);
    case 'Meta':
      return (
        isNat(m['sequence']) &&
        isStr(m['digest']) &&
        Array.isArray(m['proof']) &&
        m['proof'].every(isCheckpoint) &&
        Array.isArray(m['nodes']) &&
        m['nodes'].every((n) => isTreeNode(n) && Array.isArray(n['children']) && n['children'].every(isStr))
      );
    case 'FetchPartitions':
      return isNat(m['sequence']) && isStr(m['digest']) && Array.isArray(m['parts']) && m['parts'].every((e) => isObj(e) && isNat(e['partition']) && isNat(e['offset']));
    case 'PartitionChunk':
      return isNat(m['sequence']) && isStr(m['digest']) && isNat(m['partition']) && isNat(m['offset']) && isNat(m['total']) && isBytes(m['bytes']);
    default:
      return false;
  }
}
