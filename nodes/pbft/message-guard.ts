import type { PbftMessage } from '../../protocols/pbft/types.js';

type Rec = Record<string, unknown>;

const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const isDigest = (v: unknown): boolean => isText(v, 256);
const isBytes = (v: unknown): boolean => v instanceof Uint8Array;
const isNullableText = (v: unknown): boolean => v === null || typeof v === 'string';
const everyOf = (v: unknown, check: (x: unknown) => boolean): boolean => Array.isArray(v) && v.every(check);

export function isKvOperation(v: unknown): boolean {
  if (!isRecord(v) || typeof v['key'] !== 'string') return false;
  switch (v['op']) {
    case 'put':
      return typeof v['value'] === 'string';
    case 'cas':
      return typeof v['value'] === 'string' && isNullableText(v['expected']);
    case 'delete':
    case 'get':
      return true;
    default:
      return false;
  }
}

export function isKvResult(v: unknown): boolean {
  if (!isRecord(v)) return false;
  switch (v['kind']) {
    case 'put':
    case 'session-expired':
      return true;
    case 'delete':
      return typeof v['existed'] === 'boolean';
    case 'cas':
      return v['ok'] === true || (v['ok'] === false && isNullableText(v['current']));
    case 'get':
      return isNullableText(v['value']);
    default:
      return false;
  }
}

/** One request's result inside a (batched) Reply. */
export function isReplyEntry(v: unknown): boolean {
  return isRecord(v) && isText(v['clientId'], 512) && isCount(v['seq']) && isKvResult(v['result']);
}

/** A partition-tree node (TOCS §6.2 meta-data): level and index; with its children's digests. */
const isTreeNode = (v: unknown): boolean => isRecord(v) && isCount(v['level']) && isCount(v['index']);
const isTreeNodeMeta = (v: unknown): boolean => isTreeNode(v) && everyOf((v as Rec)['children'], isDigest);
const isPartRef = (v: unknown): boolean => isRecord(v) && isCount(v['partition']) && isCount(v['offset']);

/**
 * Shape checks of decoded peer frames before they reach the PBFT core (docs/design.md §3.7: a replica
 * never crashes on input from outside). The transport proved the peer knows the cluster secret;
 * whether the message is really from its claimed `replica` is the core's business (it checks the
 * MAC or signature, OSDI §4). Here only types and ranges: a Byzantine peer may send anything.
 */
export class PbftMessageGuard {
  constructor(private readonly n: number) {}

  isRequest = (v: unknown): boolean =>
    isRecord(v) &&
    isText(v['clientId'], 512) &&
    (v['clientId'] as string).length > 0 &&
    isCount(v['seq']) &&
    isKvOperation(v['operation']) &&
    typeof v['origin'] === 'number' &&
    Number.isInteger(v['origin']) &&
    (v['origin'] as number) >= -1 &&
    (v['origin'] as number) < this.n;

  private readonly isReplica = (v: unknown): boolean => isCount(v) && v < this.n;
  private readonly isCheckpoint = (v: unknown): boolean =>
    isRecord(v) && v['type'] === 'Checkpoint' && isCount(v['sequence']) && isDigest(v['digest']) && this.isReplica(v['replica']) && isBytes(v['auth']);
  private readonly isEntry = (v: unknown): boolean => isRecord(v) && isCount(v['sequence']) && isDigest(v['digest']) && isCount(v['view']);
  private readonly isBatchEntry = (v: unknown): boolean =>
    isRecord(v) && isCount(v['sequence']) && isDigest(v['digest']) && everyOf(v['batch'], this.isRequest);
  private readonly isChosen = (v: unknown): boolean => isRecord(v) && isCount(v['sequence']) && isDigest(v['digest']);
  private readonly isViewChange = (v: unknown): boolean =>
    isRecord(v) &&
    v['type'] === 'ViewChange' &&
    this.fields(v, ['view', 'h']) &&
    isDigest(v['checkpointDigest']) &&
    everyOf(v['checkpointProof'], this.isCheckpoint) &&
    everyOf(v['prepared'], this.isEntry) &&
    everyOf(v['prePrepared'], this.isEntry) &&
    everyOf(v['batches'], this.isBatchEntry) &&
    this.signed(v);

  /** True when `value` has the shape of a PbftMessage of this cluster. */
  check(value: unknown): value is PbftMessage {
    if (!isRecord(value) || !this.signed(value)) return false;
    const m = value;
    switch (m['type']) {
      case 'Request':
      case 'ReadRequest':
        return this.isRequest(m['request']);
      case 'PrePrepare':
        return this.fields(m, ['view', 'sequence']) && isDigest(m['digest']) && everyOf(m['batch'], this.isRequest);
      case 'Prepare':
      case 'Commit':
        return this.fields(m, ['view', 'sequence']) && isDigest(m['digest']);
      case 'Reply':
        return this.fields(m, ['view']) && everyOf(m['replies'], isReplyEntry);
      case 'ReadReply':
        return this.fields(m, ['seq']) && isText(m['clientId'], 512) && isKvResult(m['result']);
      case 'Checkpoint':
        return this.isCheckpoint(m);
      case 'ViewChange':
        return this.isViewChange(m);
      case 'NewView':
        return (
          this.fields(m, ['view', 'h']) &&
          everyOf(m['viewChanges'], this.isViewChange) &&
          everyOf(m['chosen'], this.isChosen) &&
          everyOf(m['batches'], this.isBatchEntry)
        );
      case 'Fetch':
        return this.fields(m, ['from', 'h']);
      case 'FetchReply':
        return everyOf(m['entries'], this.isBatchEntry) && (m['stable'] === null || this.isStable(m['stable']));
      case 'FetchBatches':
        return everyOf(m['wanted'], this.isChosen);
      case 'Batches':
        return everyOf(m['entries'], this.isBatchEntry);
      case 'FetchMeta':
        return this.fields(m, ['sequence']) && isDigest(m['digest']) && everyOf(m['nodes'], isTreeNode);
      case 'Meta':
        return this.fields(m, ['sequence']) && isDigest(m['digest']) && everyOf(m['proof'], this.isCheckpoint) && everyOf(m['nodes'], isTreeNodeMeta);
      case 'FetchPartitions':
        return this.fields(m, ['sequence']) && isDigest(m['digest']) && everyOf(m['parts'], isPartRef);
      case 'PartitionChunk':
        return this.fields(m, ['sequence', 'partition', 'offset', 'total']) && isDigest(m['digest']) && isBytes(m['bytes']);
      default:
        return false;
    }
  }

  private signed(m: Rec): boolean {
    return this.isReplica(m['replica']) && isBytes(m['auth']);
  }

  private fields(m: Rec, names: string[]): boolean {
    return names.every((name) => isCount(m[name]));
  }

  private isStable(v: unknown): boolean {
    return isRecord(v) && isCount(v['sequence']) && isDigest(v['digest']) && everyOf(v['proof'], this.isCheckpoint);
  }
}
