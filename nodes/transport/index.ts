export type { NodeId, PeerAddress, PeerStats, Transport, TransportOptions, TransportStats } from './types.js';
export { TcpTransport } from './tcp-transport.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_QUEUE_MESSAGES,
  DEFAULT_RECONNECT_MAX_MS,
  DEFAULT_RECONNECT_MIN_MS,
} from './transport-options.js';
