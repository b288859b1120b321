/**
 * Upper bounds of the core's messages on the wire, from its configuration: what a runtime's
 * frame limit must admit (docs/design.md §3.8: oversized frames are refused, so a bound the core can exceed
 * would stall a view change). Every large message is capped by the core itself:
 *
 * - PrePrepare: one batch (requests while their size is within maxBatchBytes, at least one);
 * - ViewChange / NewView: the P / Q / chosen entries of one window (L sequence numbers) plus the
 *   batches they carry, at most maxCarriedBatchBytes (the rest are fetched: FetchBatches);
 * - Reply: results of one batch for one origin, split at maxTransferBytes;
 * - FetchReply / Batches: maxTransferBytes plus one batch and a proof;
 * - PartitionChunk: maxTransferBytes of a partition's items plus one item (a value or a result,
 *   each within a request or result bound);
 * - Meta: META_NODES_MAX nodes of FANOUT child digests each, and a proof.
 *
 * Sizes are msgpack-style upper bounds (field names, headers, 3 UTF-8 bytes per UTF-16 unit),
 * matching canonical.ts `requestWireBytesMax` / `batchWireBytesMax`.
 */
import { FANOUT } from './partition-tree.js';
import { META_NODES_MAX } from './state-transfer.js';
import type { PbftConfig } from './types.js';
import { byzantineF } from '../common/quorum.js';

const ENTRY_BYTES = 160; // one (n, d, v) entry, or a BatchEntry's own fields, with a 64-hex digest
const CHECKPOINT_BYTES = 320; // a signed Checkpoint
const Q_PER_N = 4; // Slot.trimQ

export const DEFAULT_MAX_CARRIED_BATCH_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_TRANSFER_BYTES = 256 * 1024;

/** The largest message the core can send, given the largest request (and result) the runtime admits. */
export function messageBytesMax(config: Omit<PbftConfig, 'self'>, requestBytesMax: number): number {
  const f = byzantineF(config.n);
  const L = config.watermarkWindow;
  const transfer = config.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
  const carried = config.maxCarriedBatchBytes ?? DEFAULT_MAX_CARRIED_BATCH_BYTES;
  const batch = 64 + requestBytesMax + config.maxBatchRequests * 128 + 3 * config.maxBatchBytes;
  const proof = (2 * f + 1) * CHECKPOINT_BYTES;
  const viewChangeEntries = L * (1 + Q_PER_N) * ENTRY_BYTES + proof + 512;
  const viewChange = viewChangeEntries + carried + L * ENTRY_BYTES;
  const newView = (2 * f + 1) * viewChangeEntries + L * ENTRY_BYTES + carried + L * ENTRY_BYTES + 512;
  const transferReply = transfer + batch + 64 * ENTRY_BYTES + proof + 512;
  const reply = transfer + requestBytesMax + 512;
  const meta = META_NODES_MAX * (FANOUT * ENTRY_BYTES + 32) + proof + 512;
  return Math.max(batch + 512, viewChange, newView, transferReply, reply, meta);
}
