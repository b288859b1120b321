/**
 * A fast deterministic PbftCrypto for the seeded simulation and unit tests. Not secure: it
 * models *knowledge*, which is what the protocol's safety depends on (OSDI §2 assumptions):
 * replica i can compute the MAC key only of pairs that include i, and only its own signatures.
 * A Byzantine replica holds only its own SimCrypto, so it cannot produce a MAC or signature that
 * verifies as another replica's: forged messages fail verification, as with real crypto.
 *
 * The hash is a two-lane FNV-1a (64 bits, hex), keyed by mixing a secret into the start state.
 */
import type { PbftCrypto } from '../crypto.js';

function fnv(bytes: Uint8Array, seedA: number, seedB: number): [number, number] {
  let a = (0x811c9dc5 ^ seedA) >>> 0;
  let b = (0x01000193 ^ seedB ^ 0x5bd1e995) >>> 0;
  for (let k = 0; k < bytes.length; k++) {
    const x = bytes[k] as number;
    a = Math.imul(a ^ x, 0x01000193) >>> 0;
    b = Math.imul(b ^ x ^ (k & 0xff), 0x01000193 ^ 0x2d) >>> 0;
  }
  // Final avalanche so that short inputs spread over all bits.
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) >>> 0;
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35) >>> 0;
  a = (a ^ (b >>> 7) ^ bytes.length) >>> 0;
  return [a, b];
}

const hex = (x: number): string => x.toString(16).padStart(8, '0');

function tag(a: number, b: number): Uint8Array {
  const out = new Uint8Array(8);
  out[0] = a >>> 24;
  out[1] = a >>> 16;
  out[2] = a >>> 8;
  out[3] = a;
  out[4] = b >>> 24;
  out[5] = b >>> 16;
  out[6] = b >>> 8;
  out[7] = b;
  return out;
}

function sameTag(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
  return true;
}

/** The cluster's secrets; hands each replica a SimCrypto that knows only its own. */
export class SimKeyRing {
  constructor(
    private readonly seed: number,
    readonly n: number,
  ) {}

  private pairSecret(i: number, j: number): number {
    const lo = Math.min(i, j);
    const hi = Math.max(i, j);
    return (Math.imul(this.seed ^ 0x9e3779b9, 31 * (lo + 1)) ^ Math.imul(hi + 7, 0x27d4eb2d)) >>> 0;
  }

  private signSecret(i: number): number {
    return (Math.imul(this.seed ^ 0x7f4a7c15, i + 13) ^ 0x165667b1) >>> 0;
  }

  /** The crypto replica `self` holds. */
  cryptoFor(self: number): PbftCrypto {
    return new SimCrypto(self, (peer) => this.pairSecret(self, peer), this.signSecret(self), (signer, bytes, sig) =>
      sameTag(this.signatureOf(signer, bytes), sig),
    );
  }

  /** Public verification (what a public key allows); it never helps anyone sign. */
  private signatureOf(signer: number, bytes: Uint8Array): Uint8Array {
    const [a, b] = fnv(bytes, this.signSecret(signer), signer);
    return tag(a, b);
  }
}

class SimCrypto implements PbftCrypto {
  constructor(
    private readonly self: number,
    private readonly pairSecret: (peer: number) => number,
    private readonly signSecret: number,
    private readonly verifySignature: (signer: number, bytes: Uint8Array, sig: Uint8Array) => boolean,
  ) {}

  digest(bytes: Uint8Array): string {
    const [a, b] = fnv(bytes, 0, 0);
    return hex(a) + hex(b);
  }

  mac(peer: number, bytes: Uint8Array): Uint8Array {
    // Direction matters: the MAC from i to j differs from j to i.
    const [a, b] = fnv(bytes, this.pairSecret(peer), this.self * 131 + peer);
    return tag(a, b);
  }

  verifyMac(peer: number, bytes: Uint8Array, mac: Uint8Array): boolean {
    const [a, b] = fnv(bytes, this.pairSecret(peer), peer * 131 + this.self);
    return sameTag(tag(a, b), mac);
  }

  sign(bytes: Uint8Array): Uint8Array {
    const [a, b] = fnv(bytes, this.signSecret, this.self);
    return tag(a, b);
  }

  verify(signer: number, bytes: Uint8Array, signature: Uint8Array): boolean {
    return this.verifySignature(signer, bytes, signature);
  }
}
