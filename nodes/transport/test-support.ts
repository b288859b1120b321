/** Helpers shared by the transport tests (not a test file itself). */
import { createServer, type AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { Test } from 'tap';
import { TcpTransport } from './tcp-transport.js';
import type { NodeId, TransportOptions } from './types.js';

export const SECRET = 'test-cluster-secret';

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger that keeps every line as a parsed object, for asserting on warnings. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** Polls `condition` until it holds; fails with `what` after the deadline. Never a fixed sleep. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A port nothing listens on right now (bound, read, released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type Overrides = Partial<Omit<TransportOptions, 'id' | 'listen' | 'peers'>>;

/** Starts one transport on an ephemeral port, closed on teardown. */
export async function startTransport(t: Test, id: NodeId, overrides: Overrides = {}, port = 0): Promise<TcpTransport> {
  const transport = new TcpTransport({
    id,
    listen: { host: '127.0.0.1', port },
    peers: {},
    secret: SECRET,
    logger: silentLogger(),
    reconnectMinMs: 10,
    reconnectMaxMs: 100,
    ...overrides,
  });
  t.teardown(() => transport.close());
  await transport.start();
  return transport;
}

/**
 * Starts transports on ephemeral ports, then introduces them to each other in one synchronous
 * step, so no handshake can reach a replica before it knows the dialer.
 */
export async function startCluster(t: Test, ids: NodeId[], overrides: Overrides = {}): Promise<Map<NodeId, TcpTransport>> {
  const cluster = new Map<NodeId, TcpTransport>();
  for (const id of ids) cluster.set(id, await startTransport(t, id, overrides));
  for (const [id, transport] of cluster) {
    for (const [other, peer] of cluster) if (other !== id) transport.addPeer(other, peer.address());
  }
  return cluster;
}

export function get<K, V>(map: Map<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`missing ${String(key)}`);
  return value;
}

/** Collects everything a transport delivers, per sender. */
export function inbox(transport: TcpTransport): Map<NodeId, unknown[]> {
  const received = new Map<NodeId, unknown[]>();
  transport.onMessage((from, message) => {
    let list = received.get(from);
    if (list === undefined) received.set(from, (list = []));
    list.push(message);
  });
  return received;
}

export function count(received: Map<NodeId, unknown[]>, from: NodeId): number {
  return received.get(from)?.length ?? 0;
}
