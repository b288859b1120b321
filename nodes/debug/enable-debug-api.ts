import { isDebugSource } from './debug-source.js';
import type { DebugApi } from './debug-routes.js';
import { MessageTap, type TapDirection } from './message-tap.js';

/** A transport with the debug hooks (TcpTransport.tap, TcpTransport.pinAddress). */
export interface TappableTransport {
  tap: ((dir: TapDirection, peer: string, message: unknown) => void) | null;
  pinAddress?: (id: string, addr: { host: string; port: number }) => void;
}

/**
 * `--debug-api`: sample the transport's messages, expose the runtime's debug state, and let the
 * harness pin where a peer is dialed (its fault proxy, for replicas added later).
 */
export function enableDebugApi(selfId: string, replica: unknown, transport: TappableTransport): DebugApi {
  const tap = new MessageTap(selfId);
  transport.tap = tap.hook;
  const pin = transport.pinAddress?.bind(transport) ?? null;
  return { source: isDebugSource(replica) ? replica : null, tap, pin };
}
