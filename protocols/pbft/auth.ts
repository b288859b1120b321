/**
 * Message authentication (OSDI §4, TOCS §3.1). Normal-case messages carry a MAC computed with
 * the key the sender shares with the one receiver (an authenticator entry); messages that are
 * later forwarded as proof (Checkpoint, ViewChange, NewView) carry the sender's signature. With
 * `authentication: 'sign-all'` every message is signed, to measure what signatures cost.
 * The authenticated bytes are encoded once per message, straight into the canonical encoder's
 * scratch buffer (not copied out); only the MAC is computed per receiver.
 */
import { withAuthenticatedBytes } from './canonical.js';
import type { PbftCrypto } from './crypto.js';
import type { PbftMessage, PbftMessageType } from './types.js';

const ALWAYS_SIGNED: ReadonlySet<PbftMessageType> = new Set<PbftMessageType>(['Checkpoint', 'ViewChange', 'NewView']);

export const NO_AUTH = new Uint8Array(0);

export interface Addressed<M extends PbftMessage = PbftMessage> {
  to: number;
  message: M;
}

export class Authenticator {
  constructor(
    private readonly crypto: PbftCrypto,
    private readonly mode: 'mac' | 'sign-all',
  ) {}

  signs(type: PbftMessageType): boolean {
    return this.mode === 'sign-all' || ALWAYS_SIGNED.has(type);
  }

  /** Authenticates `m` (its `auth` is ignored) once for each receiver. */
  seal<M extends PbftMessage>(m: M, receivers: readonly number[]): Array<Addressed<M>> {
    return withAuthenticatedBytes(m, (bytes) => {
      if (this.signs(m.type)) {
        const signed = { ...m, auth: this.crypto.sign(bytes) };
        return receivers.map((to) => ({ to, message: signed }));
      }
      return receivers.map((to) => ({ to, message: { ...m, auth: this.crypto.mac(to, bytes) } }));
    });
  }

  /** A signed copy of `m`, for messages this replica keeps as its own proof (Checkpoint, ViewChange). */
  sign<M extends PbftMessage>(m: M): M {
    return { ...m, auth: withAuthenticatedBytes(m, (bytes) => this.crypto.sign(bytes)) };
  }

  /** True when `m` is authentic from its claimed sender `m.replica` (OSDI §4: otherwise discard). */
  verify(m: PbftMessage): boolean {
    return withAuthenticatedBytes(m, (bytes) =>
      this.signs(m.type) ? this.crypto.verify(m.replica, bytes, m.auth) : this.crypto.verifyMac(m.replica, bytes, m.auth),
    );
  }

  /** Signature check for a message forwarded inside another (a proof): always a signature. */
  verifySigned(m: PbftMessage): boolean {
    return withAuthenticatedBytes(m, (bytes) => this.crypto.verify(m.replica, bytes, m.auth));
  }
}
