/**
 * A private /24 that only this run uses: 10.X.Y.0/24 (RFC 1918 space), X and Y picked at random
 * among those no address or route on this machine, and no other run in the registry, already
 * covers. The host's end of the bridge is .1; replica n<k> is .<10+k>.
 */
import { randomInt } from 'node:crypto';
import { sh } from './host-tools.js';

export interface Subnet {
  /** "10.X.Y" */
  prefix: string;
  /** "10.X.Y.0/24" */
  cidr: string;
  /** The host side of the bridge: where clients, the workload and the dashboard talk from. */
  hostAddress: string;
}

export function subnetOf(prefix: string): Subnet {
  return { prefix, cidr: `${prefix}.0/24`, hostAddress: `${prefix}.1` };
}

/** Replica n<k>'s address on the subnet. */
export function replicaAddress(subnet: Subnet, id: string): string {
  const k = Number(/^n([0-9]+)$/.exec(id)?.[1]);
  if (!Number.isInteger(k) || k < 1 || k > 99) throw new Error(`no address for replica ${id} (n1..n99)`);
  return `${subnet.prefix}.${10 + k}`;
}

/**
 * The "10.X.Y" prefixes the text of `ip -4 addr` and `ip -4 route` mentions. Any 10.* network
 * wider than a /24 (a /16, a /8) rules out the whole run space, which is then 10.64-10.254.
 */
export function usedPrefixes(ipOutput: string): { prefixes: Set<string>; wide: string[] } {
  const prefixes = new Set<string>();
  const wide: string[] = [];
  for (const m of ipOutput.matchAll(/\b10\.(\d+)\.(\d+)\.\d+(?:\/(\d+))?/g)) {
    const bits = m[3] === undefined ? 32 : Number(m[3]);
    if (bits >= 24) prefixes.add(`10.${m[1]}.${m[2]}`);
    else wide.push(m[0]);
  }
  return { prefixes, wide };
}

/** Pick a free prefix, avoiding `taken` (other runs' subnets) too. */
export async function pickSubnet(taken: Iterable<string> = []): Promise<Subnet> {
  const text = (await sh('ip', ['-4', '-o', 'addr', 'show'])) + (await sh('ip', ['-4', 'route', 'show', 'table', 'all']));
  const { prefixes, wide } = usedPrefixes(text);
  for (const p of taken) prefixes.add(p);
  for (let attempt = 0; attempt < 200; attempt++) {
    const prefix = `10.${randomInt(64, 255)}.${randomInt(0, 256)}`;
    if (!prefixes.has(prefix) && !wide.some((w) => covers(w, prefix))) return subnetOf(prefix);
  }
  throw new Error('no free 10.X.Y.0/24 for the run (every candidate is in use on this machine)');
}

/** Whether the 10.* network `cidr` (e.g. "10.0.0.0/8") contains 10.X.Y.0/24. */
function covers(cidr: string, prefix: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? 32);
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((toInt(net!) & mask) >>> 0) === ((toInt(`${prefix}.0`) & mask) >>> 0);
}
