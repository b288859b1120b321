/**
 * The real PbftCrypto (protocols/pbft/crypto.ts) on node:crypto, Castro and Liskov, TOCS 2002 §3.1:
 *
 * - MACs: HMAC-SHA256 truncated to 16 bytes (the paper's authenticators also use 10-16 byte MACs)
 *   under a pairwise session key. The key of the pair {i, j} is HKDF-SHA256 over the X25519 shared
 *   secret of i and j, with a salt and info that name both ids in sorted order, so i and j derive
 *   the same key and no third replica can (it knows neither private key). Keys are derived once,
 *   at start, and kept as KeyObjects (HMAC with a KeyObject skips re-importing the key per call).
 * - Signatures: Ed25519 over the canonical bytes.
 * - Digest: SHA-256, lower-case hex.
 *
 * Replicas are the core's indices 0..n-1 (the order of the cluster file's nodes).
 */
import {
  createHash,
  createHmac,
  createSecretKey,
  diffieHellman,
  hkdfSync,
  sign as edSign,
  timingSafeEqual,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import type { PbftCrypto } from '../../protocols/pbft/crypto.js';
import { importPublic, type PbftKeyPair, type PbftPublicKeys } from './keys.js';

export const MAC_BYTES = 16;
const MAC_KEY_BYTES = 32;
const HKDF_SALT = Buffer.from('consensus-lab/pbft/pairwise-mac-key/v1');

export class NodePbftCrypto implements PbftCrypto {
  private readonly macKeys: KeyObject[];
  private readonly verifyKeys: KeyObject[];

  /** `publicKeys[i]` is replica i's public keys (from the cluster file); `self` indexes this replica. */
  constructor(
    readonly self: number,
    private readonly own: PbftKeyPair,
    publicKeys: readonly PbftPublicKeys[],
  ) {
    const mine = publicKeys[self];
    if (mine === undefined || mine.ed25519 !== own.publicKeys.ed25519 || mine.x25519 !== own.publicKeys.x25519) {
      throw new Error(`replica ${self}: its key file does not match its public keys in the cluster file`);
    }
    this.verifyKeys = publicKeys.map((k) => importPublic(k.ed25519, 'ed25519'));
    this.macKeys = publicKeys.map((k, peer) => pairwiseKey(own.agreementKey, importPublic(k.x25519, 'x25519'), self, peer));
  }

  digest(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  mac(peer: number, bytes: Uint8Array): Uint8Array {
    const key = this.macKeys[peer];
    if (key === undefined) throw new RangeError(`no replica ${peer}`);
    return hmac(key, bytes);
  }

  verifyMac(peer: number, bytes: Uint8Array, tag: Uint8Array): boolean {
    const key = this.macKeys[peer];
    if (key === undefined || !(tag instanceof Uint8Array) || tag.byteLength !== MAC_BYTES) return false;
    return timingSafeEqual(hmac(key, bytes), tag);
  }

  sign(bytes: Uint8Array): Uint8Array {
    return edSign(null, bytes, this.own.signingKey);
  }

  verify(signer: number, bytes: Uint8Array, signature: Uint8Array): boolean {
    const key = this.verifyKeys[signer];
    if (key === undefined || !(signature instanceof Uint8Array)) return false;
    try {
      return edVerify(null, bytes, key, signature);
    } catch {
      return false; // a malformed signature is a failed one, never a crash
    }
  }
}

function hmac(key: KeyObject, bytes: Uint8Array): Buffer {
  return createHmac('sha256', key).update(bytes).digest().subarray(0, MAC_BYTES);
}

/** HKDF-SHA256(X25519(self, peer)) bound to the sorted pair, so both ends derive one key. */
function pairwiseKey(privateKey: KeyObject, peerPublic: KeyObject, self: number, peer: number): KeyObject {
  const shared = diffieHellman({ privateKey, publicKey: peerPublic });
  const [lo, hi] = self < peer ? [self, peer] : [peer, self];
  const info = Buffer.from(`pbft mac key for replicas ${lo} and ${hi}`);
  const salt = Buffer.concat([HKDF_SALT, Buffer.from(`/${lo}/${hi}`)]);
  return createSecretKey(Buffer.from(hkdfSync('sha256', shared, salt, info, MAC_KEY_BYTES)));
}
