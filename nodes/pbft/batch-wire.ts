/**
 * A PrePrepare's batch travels as msgpack bytes packed once, not as an array packed again for
 * every receiver (OSDI §4.2: the primary multicasts <<PRE-PREPARE, v, n, d>_αp, m> to the n-1
 * backups; only the authenticator differs per receiver). The same bytes are what the primary
 * persists for the batch, and what a backup persists for the batch it decoded from them, so a
 * batch is packed once in the whole cluster instead of 2n-1 times (n-1 frames, n stores).
 *
 * Nothing is trusted more than before: a backup decodes the bytes first and the decoded batch
 * goes through the message guard, the core's shape check and the core's digest check exactly as
 * an inline array did. The store later decodes the same bytes with the same decoder (msgpackr,
 * `useRecords: false`, hence maps as objects), so a restarted replica gets back the very batch it
 * checked. Batches are never mutated after the core hands them out (protocols/pbft README), so
 * bytes can be remembered by the batch object's identity.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Batch, PbftMessage } from '../../protocols/pbft/types.js';

// The options of the transport's frames and of the LevelDB store (same decoded values).
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** msgpack bytes of batches this replica packed or decoded; gone with the batch (WeakMap). */
const packedBatches = new WeakMap<Batch, Uint8Array>();

/** The msgpack bytes of `batch`, packed at most once per batch object. */
export function packedBatch(batch: Batch): Uint8Array {
  let bytes = packedBatches.get(batch);
  if (bytes === undefined) {
    bytes = packr.pack(batch);
    packedBatches.set(batch, bytes);
  }
  return bytes;
}

/** The form a message takes on the wire: a PrePrepare carries its batch as bytes. */
export function toWire(message: PbftMessage): unknown {
  if (message.type !== 'PrePrepare') return message;
  return { ...message, batch: packedBatch(message.batch) };
}

/**
 * Undoes toWire on a decoded peer frame, before any check: a PrePrepare whose `batch` is bytes
 * gets the decoded array (remembering the bytes). Anything else is returned as it is, for the
 * message guard to judge. Undecodable bytes become a non-array, which the guard refuses.
 */
export function fromWire(message: unknown): unknown {
  if (typeof message !== 'object' || message === null) return message;
  const m = message as Record<string, unknown>;
  const bytes = m['batch'];
  if (m['type'] !== 'PrePrepare' || !(bytes instanceof Uint8Array)) return message;
  let batch: unknown;
  try {
    batch = unpackr.unpack(bytes);
  } catch {
    return { ...m, batch: null };
  }
  if (Array.isArray(batch)) packedBatches.set(batch as Batch, bytes);
  return { ...m, batch };
}
