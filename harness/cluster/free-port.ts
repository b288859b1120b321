import { createServer } from 'node:net';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Ports for local replicas and baselines. A cluster file names every port before any replica binds
 * it, so a chosen port stays unbound for a second or two while the processes start (and again
 * while a killed replica is down). The kernel hands out ports of `ip_local_port_range` to every
 * listen(0) and to the local side of every outgoing connection: a port chosen inside that range can
 * be taken in the window by any other process, such as a parallel test's proxy or probe, and the
 * replica then exits with EADDRINUSE. So ports are drawn at random below that range, where only
 * explicit choices land, and each is checked by binding it once.
 */
const EXPLICIT_LOW = 10_000;
const handedOut = new Set<number>();

/** [low, high) of the ports chosen here: below the kernel's ephemeral range, or the range itself where that leaves too few. */
export function explicitPortRange(ephemeralLow = ephemeralRangeLow()): { low: number; high: number } | null {
  return ephemeralLow - EXPLICIT_LOW >= 4096 ? { low: EXPLICIT_LOW, high: ephemeralLow } : null;
}

function ephemeralRangeLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    return Number(low) || 32_768;
  } catch {
    return 32_768; // Linux's default, and no /proc elsewhere
  }
}

/** A free TCP port on 127.0.0.1, not handed out before by this process. */
export async function freePort(): Promise<number> {
  const range = explicitPortRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = range === null ? await kernelPort() : randomInt(range.low, range.high);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    if (handedOut.size > 10_000) handedOut.clear();
    handedOut.add(port);
    return port;
  }
  throw new Error('no free TCP port found on 127.0.0.1 in 200 tries');
}

export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) ports.push(await freePort());
  return ports;
}

/** Whether port can be bound on 127.0.0.1 right now (it is released again at once). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port the kernel picks (listen(0)), where no range below the ephemeral one is left. */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
