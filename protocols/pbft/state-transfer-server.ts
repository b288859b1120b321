/**
 * The serving side of state transfer (Castro and Liskov, TOCS 2002 §6.2): a replica answers for
 * its stable checkpoint only, the one 2f+1 signed Checkpoints certify, from the copy-on-write
 * checkpoint (state-checkpoints.ts): the children's digests of asked tree nodes (Meta), and the
 * items of asked partitions in chunks of about maxTransferBytes (PartitionChunk).
 */
import { NO_AUTH } from './auth.js';
import { encodeValue } from './canonical.js';
import { PARTITIONS, toWireItems } from './partitions.js';
import type { StateCheckpoints } from './state-checkpoints.js';
import { META_NODES_MAX, PARTS_MAX } from './state-transfer.js';
import type { Checkpoint, FetchMeta, FetchPartitions, Meta, PartitionChunk } from './types.js';

export interface StableCheckpoint {
  sequence: number;
  digest: string;
  proof: Checkpoint[];
}

const asks = (stable: StableCheckpoint, m: { sequence: number; digest: string }): boolean => m.sequence === stable.sequence && m.digest === stable.digest;

/**
 * The asked nodes' children at our stable checkpoint; if the asker wants an older checkpoint
 * (which we no longer keep), our root instead, so that it moves on to ours. Null: nothing to say.
 */
export function metaReply(cps: StateCheckpoints, stable: StableCheckpoint, m: FetchMeta | FetchPartitions, self: number): Meta | null {
  const top = cps.widths.length - 1;
  let nodes: Array<{ level: number; index: number }>;
  if (m.type === 'FetchMeta' && asks(stable, m)) nodes = m.nodes.slice(0, META_NODES_MAX).filter((n) => n.level >= 1 && n.level <= top && n.index < (cps.widths[n.level] as number));
  else if (m.sequence < stable.sequence) nodes = [{ level: top, index: 0 }];
  else return null;
  if (nodes.length === 0) return null;
  return {
    type: 'Meta',
    sequence: stable.sequence,
    digest: stable.digest,
    proof: stable.proof,
    nodes: nodes.map(({ level, index }) => ({ level, index, children: cps.childrenAt(stable.sequence, level, index) })),
    replica: self,
    auth: NO_AUTH,
  };
}

/** One chunk per asked partition, from its offset, about maxBytes of items (at least one item). */
export function partitionChunks(cps: StateCheckpoints, stable: StableCheckpoint, m: FetchPartitions, maxBytes: number, self: number): PartitionChunk[] {
  if (!asks(stable, m)) return [];
  const out: PartitionChunk[] = [];
  for (const { partition, offset } of m.parts.slice(0, PARTS_MAX)) {
    if (partition >= PARTITIONS) continue;
    const items = toWireItems(partition, cps.partitionAt(stable.sequence, partition));
    if (offset > items.length) continue;
    const slice: unknown[] = [];
    let bytes = 0;
    for (let k = offset; k < items.length && (slice.length === 0 || bytes < maxBytes); k++) {
      const size = encodeValue(items[k]).length;
      if (slice.length > 0 && bytes + size > maxBytes) break;
      slice.push(items[k]);
      bytes += size;
    }
    out.push({ type: 'PartitionChunk', sequence: stable.sequence, digest: stable.digest, partition, offset, total: items.length, bytes: encodeValue(slice), replica: self, auth: NO_AUTH });
  }
  return out;
}
