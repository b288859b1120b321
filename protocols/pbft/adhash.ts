/**
 * AdHash, the incremental multiset hash of Bellare and Micciancio ("A New Paradigm for
 * Collision-free Hashing: Incrementality at Reduced Cost", EUROCRYPT '97): the hash of a set of
 * items is the sum of H(item) modulo 2^256. Adding an item adds its hash, removing one subtracts
 * it, so a change costs O(1) whatever the size of the set, and the result does not depend on the
 * order the items came in. Castro and Liskov (TOCS 2002 §6.2.1) digest each leaf partition of
 * the state this way.
 *
 * H is the core's injected digest (crypto.ts: SHA-256 in the runtime, a fast stand-in in the
 * simulation); items are the canonical encoding (canonical.ts) of what they hash, so every
 * replica hashes exactly the same bytes. Bellare and Micciancio recommend a modulus of well over
 * 256 bits against the generalised birthday attack; 2^256 is what the brief and Castro's code
 * use, and a forged partition must also match the leaf digest certified by 2f+1 signed
 * Checkpoints.
 */
import { encodeValue } from './canonical.js';

const MODULUS = 1n << 256n;
const MASK = MODULUS - 1n;

/** The empty set's AdHash, as a leaf digest. */
export const EMPTY_ADHASH = adhashHex(0n);

/** H(item) as a number below 2^256: the digest of the item's canonical bytes. */
export function itemHash(digest: (bytes: Uint8Array) => string, item: unknown): bigint {
  return BigInt(`0x${digest(encodeValue(item))}`) & MASK;
}

/** The AdHash with one more item whose hash is h. */
export function adhashAdd(sum: bigint, h: bigint): bigint {
  return (sum + h) & MASK;
}

/** The AdHash with one item (hash h) removed. */
export function adhashRemove(sum: bigint, h: bigint): bigint {
  return (sum - h + MODULUS) & MASK;
}

/** An AdHash as 64 lower-case hex digits (the leaf digests of the partition tree). */
export function adhashHex(sum: bigint): string {
  return sum.toString(16).padStart(64, '0');
}
