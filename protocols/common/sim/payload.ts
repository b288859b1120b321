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
