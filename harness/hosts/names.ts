/**
 * The names of everything one run makes, all carrying its run id, so that what a run left behind
 * can be told from anyone else's and removed. Linux limits interface names to 15 characters
 * (IFNAMSIZ is 16 with the terminating NUL; netdevice(7)): `cl-<5 chars>-h12` is 12. Namespace
 * names (files under /run/netns) and iptables chain names (up to 28 characters) have room.
 */
import { randomInt } from 'node:crypto';

/** Linux's limit on an interface name (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

/** What every name starts with: grep for it (`ip link | grep cl-`, `ip netns list`). */
export const NAME_PREFIX = 'cl-';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh run id: five lowercase letters or digits (60 million of them). */
export function newNetRunId(): string {
  return Array.from({ length: 5 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

export interface RunNames {
  /** The bridge on the host side: every replica's veth is a port of it. */
  bridge: string;
  /** The iptables chain the run adds in every namespace (partitions go there). */
  chain: string;
  /** Replica `id`'s network namespace. */
  namespace(id: string): string;
  /** The host end of replica `id`'s veth pair (a port of the bridge). */
  hostVeth(id: string): string;
  /** The end inside the namespace, which carries the replica's address. */
  replicaVeth(id: string): string;
}

export function runNames(runId: string): RunNames {
  if (!/^[a-z0-9]{1,6}$/.test(runId)) throw new Error(`a network run id is 1 to 6 lowercase letters or digits, not ${JSON.stringify(runId)}`);
  const ifname = (suffix: string): string => {
    const name = `${NAME_PREFIX}${runId}-${suffix}`;
    if (name.length > IFNAME_MAX) throw new Error(`interface name ${name} is longer than ${IFNAME_MAX} characters`);
    return name;
  };
  const replicaNo = (id: string): string => {
    const m = /^n([1-9][0-9]?)$/.exec(id);
    if (m === null) throw new Error(`replica ids are n1..n99 here, not ${id}`);
    return m[1]!;
  };
  return {
    bridge: ifname('br'),
    chain: `CL-${runId}`,
    namespace: (id) => `${NAME_PREFIX}${runId}-${id}`,
    hostVeth: (id) => ifname(`h${replicaNo(id)}`),
    replicaVeth: (id) => ifname(`r${replicaNo(id)}`),
  };
}
