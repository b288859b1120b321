/**
 * Bandwidth limits on a replica's veth with a token bucket filter (tc-tbf(8)): a qdisc on the host
 * end limits what reaches the replica, one on the namespace end what it sends. Removing the
 * namespace removes both. `tc qdisc ... netem` (delay, jitter, loss) is not built into this
 * kernel ("Specified qdisc kind is unknown"), so delay and jitter stay with the fault proxy
 * (harness/proxy/link-proxy.ts).
 */
import { shQuiet, sh } from './host-tools.js';
import type { NetnsHosts } from './netns-hosts.js';

/**
 * tbf's parameters for `bytesPerSec`: the rate in bit/s (tc's "bps" means bytes per second, so
 * "bit" is unambiguous), a bucket of 1/20 s of traffic but at least two full frames (a bucket
 * smaller than one frame would never send it), and a queue of at most 100 ms of waiting.
 */
export function tbfArgs(bytesPerSec: number): string[] {
  if (!Number.isFinite(bytesPerSec) || bytesPerSec < 1000) throw new Error(`a bandwidth limit is at least 1000 bytes/s, not ${bytesPerSec}`);
  const burst = Math.max(3028, Math.round(bytesPerSec / 20));
  return ['tbf', 'rate', `${Math.round(bytesPerSec * 8)}bit`, 'burst', String(burst), 'latency', '100ms'];
}

/** Limit replica `id`'s traffic to `bytesPerSec` in each direction. */
export async function limitBandwidth(hosts: NetnsHosts, id: string, bytesPerSec: number): Promise<void> {
  const tbf = tbfArgs(bytesPerSec);
  await sh('tc', ['qdisc', 'replace', 'dev', hosts.names.hostVeth(id), 'root', ...tbf]);
  await sh('tc', ['-n', hosts.namespace(id), 'qdisc', 'replace', 'dev', hosts.names.replicaVeth(id), 'root', ...tbf]);
}

/** No limit on replica `id` (the default qdisc again). */
export async function clearBandwidth(hosts: NetnsHosts, id: string): Promise<void> {
  await shQuiet('tc', ['qdisc', 'del', 'dev', hosts.names.hostVeth(id), 'root']);
  await shQuiet('tc', ['-n', hosts.namespace(id), 'qdisc', 'del', 'dev', hosts.names.replicaVeth(id), 'root']);
}
