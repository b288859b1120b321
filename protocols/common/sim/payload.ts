/**
 * A client command's payload in the Raft and Multi-Paxos simulations: unique (its first four
 * bytes are its number), mostly a few bytes, sometimes large enough to split batches.
 */
import type { Rng } from '../rng.js';

export function randomPayload(rng: Rng, id: number): Uint8Array {
  const size = rng.chance(0.1) ? rng.between(40, 120) : rng.between(4, 12);
  const data = new Uint8Array(size);
  for (let k = 0; k < 4; k++) data[k] = (id >>> (8 * k)) & 0xff;
  for (let k = 4; k < size; k++) data[k] = rng.int(256);
  return data;
}

/**
 * Do two payloads hold the same bytes? Payloads are unique, so this tells a proposal's own entry
 * from another one; identity does not, since a log keeps its own copy of every entry's bytes.
 */
export function samePayload(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
