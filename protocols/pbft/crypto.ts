/**
 * The cryptography the PBFT core needs (Castro and Liskov, OSDI '99 §4 and TOCS 2002 §3.1),
 * injected so that the core stays pure: the replica process passes real HMAC-SHA256 / Ed25519
 * (nodes/pbft/node-crypto.ts), the seeded simulation passes a fast deterministic stand-in that
 * models the same knowledge (protocols/pbft/sim/sim-crypto.ts): replica i can compute only the MAC
 * keys of pairs that include i, and only its own signatures.
 *
 * Replicas are numbered 0..n-1 (the primary of view v is v mod n). Byte strings are what the
 * core's canonical encoding produced (protocols/pbft/canonical.ts), usually a view of its scratch
 * buffer: they are valid only during the call, so an implementation must not keep them.
 */
export interface PbftCrypto {
  /** Collision-resistant digest, lower-case hex: request batches, checkpoint state. */
  digest(bytes: Uint8Array): string;
  /** MAC of `bytes` under the key this replica shares with replica `peer`, and no one else. */
  mac(peer: number, bytes: Uint8Array): Uint8Array;
  /** True when `tag` is the MAC replica `peer` computed over `bytes` for this replica. */
  verifyMac(peer: number, bytes: Uint8Array, tag: Uint8Array): boolean;
  /** This replica's signature over `bytes`. */
  sign(bytes: Uint8Array): Uint8Array;
  /** True when `signature` is replica `signer`'s signature over `bytes`. */
  verify(signer: number, bytes: Uint8Array, signature: Uint8Array): boolean;
}
