/**
 * Where the bytes of a replicated command live while it is in the log (issue 13: memory in
 * proportion to the data). A log holds tens of thousands of commands of a few hundred bytes. Each
 * in an ArrayBuffer of its own costs an ArrayBuffer object (88 B) and a malloc block beside its
 * Uint8Array (96 B), about 300 B of overhead per command in a heap snapshot. Commands are copied
 * instead, one after another, into 64 KiB slabs: a command costs its bytes and one view.
 *
 * A slab is freed once no view into it is left. Log entries are compacted in the order they were
 * created, so a slab's commands are dropped together and a slab outlives its data only while the
 * newest entries still fill it. (msgpackr's own output buffer is no slab: it is reused for every
 * frame and message, so a view into it would keep unrelated data alive.)
 */
const SLAB_BYTES = 64 * 1024;
/** Larger commands get a buffer of their own: one would waste most of a slab's tail. */
const LARGEST_IN_SLAB = SLAB_BYTES / 16;

let slab = new Uint8Array(0);
let used = 0;

/** A copy of bytes that holds no memory beyond its own for long (see above). */
export function slabCopy(bytes: Uint8Array): Uint8Array {
  if (bytes.length > LARGEST_IN_SLAB) return new Uint8Array(bytes);
  if (used + bytes.length > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const copy = slab.subarray(used, used + bytes.length);
  copy.set(bytes);
  used += bytes.length;
  return copy;
}
