/**
 * Partitions as iptables rules, as pure functions (tested without root). The proxy's vocabulary is
 * kept: a directed link from→to is cut when `from` can no longer talk to `to`. A replica sends its
 * messages to a peer only on the connection it dialed itself (nodes/transport/peer-connection.ts),
 * so cutting from→to means: the packets `from` sends to the ports `to` listens on (its peer port
 * and its HTTP port) are dropped or rejected. The connection `to` dialed to `from` is untouched:
 * its packets from `from` go to an ephemeral port of `to`, not to a listening one. So "A hears B,
 * B does not hear A" is the one link A→B cut.
 *
 * The rules sit in `to`'s namespace, in INPUT (the receiver's side), not in `from`'s OUTPUT: a
 * locally generated packet dropped in OUTPUT makes the sender's send or connect fail at once with
 * EPERM, which is not what a silent partition looks like from the sender.
 *
 * - `blackhole` → `-j DROP`: packets vanish; the sender's connect times out and an open connection
 *   retransmits until TCP gives up (the kernel's own timers, tcp(7)) or the link heals;
 * - `refuse` → `-j REJECT --reject-with tcp-reset`: the sender's connect is refused and an open
 *   connection is reset, as when the peer's host answers but nothing listens.
 */
import type { LinkMode } from '../proxy/link-proxy.js';

export type CutMode = Exclude<LinkMode, 'pass'>;

/** What a replica's host is on the run's network: its address and the ports it listens on. */
export interface HostTarget {
  address: string;
  ports: readonly number[];
}

export interface Cut {
  from: string;
  to: string;
  mode: CutMode;
}

/** The rules of replica `to`'s chain for the links cut into it, as iptables-restore lines. */
export function chainRules(chain: string, to: string, cuts: readonly Cut[], target: (id: string) => HostTarget): string[] {
  const ports = target(to).ports;
  if (ports.length === 0) return [];
  const jump = { blackhole: '-j DROP', refuse: '-j REJECT --reject-with tcp-reset' };
  return cuts
    .filter((c) => c.to === to && c.from !== to)
    .sort((a, b) => a.from.localeCompare(b.from))
    .map((c) => `-A ${chain} -s ${target(c.from).address}/32 -p tcp -m multiport --dports ${[...ports].sort((a, b) => a - b).join(',')} ${jump[c.mode]}`);
}

/**
 * iptables-restore input that replaces the whole chain at once: with --noflush only the tables
 * named are touched, and naming a chain (`:CHAIN - [0:0]`) flushes it first (iptables-restore(8)).
 * An empty rule list heals every link into the replica.
 */
export function restoreInput(chain: string, rules: readonly string[]): string {
  return ['*filter', `:${chain} - [0:0]`, ...rules, 'COMMIT', ''].join('\n');
}
