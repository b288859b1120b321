import { isDebugSource } from './debug-source.js';
import type { DebugApi } from './debug-routes.js';
import { MessageTap, type TapDirection } from './message-tap.js';

/** A transport with the debug hook (TcpTransport.tap). */
export interface TappableTransport {
  tap: ((dir: TapDirection, peer: string, message: unknown) => void) | null;
}

/** `--debug-api`: sample the transport's messages and expose the runtime's debug state. */
export function enableDebugApi(selfId: string, replica: unknown, transport: TappableTransport): DebugApi {
  const tap = new MessageTap(selfId);
  transport.tap = tap.hook;
  return { source: isDebugSource(replica) ? replica : null, tap };
}
