import type { Logger } from 'pino';
import type { NodeId, PeerAddress, TransportOptions } from './types.js';

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_QUEUE_MESSAGES = 10_000;
export const DEFAULT_RECONNECT_MIN_MS = 50;
export const DEFAULT_RECONNECT_MAX_MS = 2000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 2000;
/** Node ids travel in the handshake; a bound keeps that frame small. */
export const MAX_NODE_ID_BYTES = 256;

/** `TransportOptions` with every default filled in and every number checked. */
export interface ResolvedTransportOptions {
  id: NodeId;
  listen: PeerAddress;
  peers: Record<NodeId, PeerAddress>;
  secret: string;
  logger: Logger;
  maxFrameBytes: number;
  maxQueueBytes: number;
  maxQueueMessages: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  handshakeTimeoutMs: number;
}

export function resolveTransportOptions(opts: TransportOptions): ResolvedTransportOptions {
  checkNodeId(opts.id);
  if (opts.secret.length === 0) throw new RangeError('transport: secret must not be empty');
  const resolved: ResolvedTransportOptions = {
    id: opts.id,
    listen: { ...opts.listen },
    peers: { ...opts.peers },
    secret: opts.secret,
    logger: opts.logger,
    maxFrameBytes: positiveInt('maxFrameBytes', opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES),
    maxQueueBytes: positiveInt('maxQueueBytes', opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES),
    maxQueueMessages: positiveInt('maxQueueMessages', opts.maxQueueMessages ?? DEFAULT_MAX_QUEUE_MESSAGES),
    reconnectMinMs: positiveInt('reconnectMinMs', opts.reconnectMinMs ?? DEFAULT_RECONNECT_MIN_MS),
    reconnectMaxMs: positiveInt('reconnectMaxMs', opts.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS),
    handshakeTimeoutMs: positiveInt('handshakeTimeoutMs', opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS),
  };
  // The frame header is a uint32.
  if (resolved.maxFrameBytes > 0xffff_ffff) throw new RangeError('transport: maxFrameBytes must fit in 32 bits');
  if (resolved.reconnectMaxMs < resolved.reconnectMinMs) {
    throw new RangeError('transport: reconnectMaxMs must be >= reconnectMinMs');
  }
  checkPeerAddress(resolved.listen, true);
  for (const [id, addr] of Object.entries(resolved.peers)) {
    checkNodeId(id);
    checkPeerAddress(addr);
  }
  return resolved;
}

export function checkNodeId(id: string): void {
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes === 0 || bytes > MAX_NODE_ID_BYTES) {
    throw new RangeError(`transport: node id must be 1..${MAX_NODE_ID_BYTES} UTF-8 bytes, got ${JSON.stringify(id)}`);
  }
}

/** Refuses addresses that would make `net.connect` throw later, inside a timer. */
export function checkPeerAddress(addr: PeerAddress, allowPortZero = false): void {
  const portOk = Number.isInteger(addr.port) && addr.port >= (allowPortZero ? 0 : 1) && addr.port <= 65_535;
  if (typeof addr.host !== 'string' || addr.host.length === 0 || !portOk) {
    throw new RangeError(`transport: bad address ${JSON.stringify(addr)}`);
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`transport: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
