/**
 * Mutual authentication with the cluster secret (docs/design.md §3.5). Pure message shapes and MACs;
 * the socket side lives in inbound-connection.ts (server) and peer-connection.ts (dialer).
 *
 *   server → dialer   Challenge { nonce: serverNonce }
 *   dialer → server   Hello     { id, nonce: clientNonce, mac: HMAC(secret, label|C|serverNonce|clientNonce|id) }
 *   server → dialer   Welcome   { mac: HMAC(secret, label|S|serverNonce|clientNonce|serverId) }
 *
 * The server's fresh nonce stops replayed Hellos; the dialer's nonce stops replayed Welcomes; the
 * role byte keeps a dialer's proof from ever being valid as a server's proof. The server checks
 * the dialer's id against its membership and the dialer checks the Welcome against the id it
 * meant to reach, so a misconfigured address is noticed. There is no per-frame MAC afterwards:
 * this authenticates cluster members, it does not protect against an attacker on the path.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MAX_NODE_ID_BYTES } from './transport-options.js';
import type { NodeId } from './types.js';

export const HANDSHAKE_LABEL = 'consensus-lab/1';
export const HANDSHAKE_VERSION = 1;
export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;
/** Handshake frames are tiny; unauthenticated peers get this limit, not maxFrameBytes. */
export const HANDSHAKE_MAX_FRAME_BYTES = 1024;

export interface Challenge {
  type: 'challenge';
  version: number;
  nonce: Uint8Array;
}

export interface Hello {
  type: 'hello';
  id: NodeId;
  nonce: Uint8Array;
  mac: Uint8Array;
}

export interface Welcome {
  type: 'welcome';
  mac: Uint8Array;
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function challenge(serverNonce: Uint8Array): Challenge {
  return { type: 'challenge', version: HANDSHAKE_VERSION, nonce: serverNonce };
}

export function hello(secret: string, serverNonce: Uint8Array, clientNonce: Uint8Array, clientId: NodeId): Hello {
  return { type: 'hello', id: clientId, nonce: clientNonce, mac: clientMac(secret, serverNonce, clientNonce, clientId) };
}

export function welcome(secret: string, serverNonce: Uint8Array, clientNonce: Uint8Array, serverId: NodeId): Welcome {
  return { type: 'welcome', mac: serverMac(secret, serverNonce, clientNonce, serverId) };
}

export function clientMac(secret: string, serverNonce: Uint8Array, clientNonce: Uint8Array, clientId: NodeId): Buffer {
  return mac(secret, 'C', serverNonce, clientNonce, clientId);
}

export function serverMac(secret: string, serverNonce: Uint8Array, clientNonce: Uint8Array, serverId: NodeId): Buffer {
  return mac(secret, 'S', serverNonce, clientNonce, serverId);
}

/** Constant-time comparison; false for anything that is not a MAC-sized byte array. */
export function macMatches(expected: Buffer, received: Uint8Array): boolean {
  return received.length === expected.length && timingSafeEqual(expected, received);
}

export function parseChallenge(value: unknown): Challenge | undefined {
  if (!isRecord(value) || value['type'] !== 'challenge') return undefined;
  const version = value['version'];
  const nonce = value['nonce'];
  if (version !== HANDSHAKE_VERSION || !isBytes(nonce, NONCE_BYTES)) return undefined;
  return { type: 'challenge', version, nonce };
}

export function parseHello(value: unknown): Hello | undefined {
  if (!isRecord(value) || value['type'] !== 'hello') return undefined;
  const id = value['id'];
  const nonce = value['nonce'];
  const helloMac = value['mac'];
  if (!isNodeId(id) || !isBytes(nonce, NONCE_BYTES) || !isBytes(helloMac, MAC_BYTES)) return undefined;
  return { type: 'hello', id, nonce, mac: helloMac };
}

export function parseWelcome(value: unknown): Welcome | undefined {
  if (!isRecord(value) || value['type'] !== 'welcome') return undefined;
  const welcomeMac = value['mac'];
  if (!isBytes(welcomeMac, MAC_BYTES)) return undefined;
  return { type: 'welcome', mac: welcomeMac };
}

function mac(secret: string, role: 'C' | 'S', serverNonce: Uint8Array, clientNonce: Uint8Array, id: NodeId): Buffer {
  // Both nonces have a fixed length and the id comes last, so the concatenation is unambiguous.
  return createHmac('sha256', secret)
    .update(HANDSHAKE_LABEL)
    .update(Buffer.from([0, role.charCodeAt(0)]))
    .update(serverNonce)
    .update(clientNonce)
    .update(id, 'utf8')
    .digest();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}

function isNodeId(value: unknown): value is NodeId {
  if (typeof value !== 'string') return false;
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes > 0 && bytes <= MAX_NODE_ID_BYTES;
}
