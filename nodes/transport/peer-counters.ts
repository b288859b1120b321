/** Mutable per-peer counters, shared by the peer's outbound connection and its inbound ones. */
export class PeerCounters {
  messagesSent = 0;
  bytesSent = 0;
  messagesReceived = 0;
  bytesReceived = 0;
  dropped = 0;
  reconnects = 0;
}
