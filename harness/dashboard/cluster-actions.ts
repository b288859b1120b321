/**
 * What the dashboard's buttons do, through the harness: replica faults with Cluster (kill,
 * restart, restart wiped, pause, resume, and on power-loss filesystems power off one replica or
 * the whole cluster) and network faults with the FaultProxy or, when the replicas have their
 * own network namespaces (`--hosts netns`), iptables in the kernel (harness/hosts/
 * kernel-partitions.ts): one link, a named split, heal everything.
 */
import type { Cluster } from '../cluster/cluster.js';
import { describePowerLoss } from '../lazyfs/lazyfs.js';
import type { LinkMode } from '../proxy/link-proxy.js';
import type { PartitionShape } from '../proxy/partition-shapes.js';
import type { LinkView } from './dashboard-types.js';

export const replicaActions = ['kill', 'restart', 'wipe', 'pause', 'resume', 'power-off'] as const;
export type ReplicaAction = (typeof replicaActions)[number];

export const splitNames = ['isolate-leader', 'halves', 'heal-all'] as const;
export type SplitName = (typeof splitNames)[number];

export type ControlledCluster = Pick<Cluster, 'replicas' | 'adminHeaders' | 'kill' | 'restart' | 'pause' | 'resume'> &
  Partial<Pick<Cluster, 'powerLossEnabled' | 'powerOff' | 'powerOffAll'>>;

/** Why the power buttons are disabled without power-loss filesystems (also their tooltip). */
export const NO_POWER_LOSS = 'power off needs the replicas on power-loss filesystems: start the cluster with --lazyfs (root and FUSE)';
/** What the link buttons need: the FaultProxy has it, and so has KernelPartitions (whose changes are async). */
export interface LinkControl extends LinkModes {
  setMode(links: ReadonlyArray<readonly [string, string]>, mode: LinkMode): void | Promise<void>;
  isolate(node: string): PartitionShape | Promise<PartitionShape>;
  split(parts: readonly (readonly string[])[]): PartitionShape | Promise<PartitionShape>;
  healPartitions(): void | Promise<void>;
}

/** Who the links are between, and each directed link's mode. */
export interface LinkModes {
  readonly ids: readonly string[];
  link(from: string, to: string): { mode: LinkMode };
}

export class ActionError extends Error {}

export async function replicaAction(cluster: ControlledCluster, id: string, action: ReplicaAction): Promise<string> {
  if (!cluster.replicas.some((r) => r.id === id)) throw new ActionError(`no replica ${id}`);
  switch (action) {
    case 'kill':
      await cluster.kill(id);
      return `killed ${id} (SIGKILL)`;
    case 'restart':
      await cluster.restart(id);
      return `restarted ${id}`;
    case 'wipe':
      await cluster.restart(id, { wipe: true });
      return `restarted ${id} with an empty data directory`;
    case 'pause':
      guard(() => cluster.pause(id));
      return `paused ${id} (SIGSTOP)`;
    case 'resume':
      guard(() => cluster.resume(id));
      return `resumed ${id} (SIGCONT)`;
    case 'power-off': {
      if (cluster.powerLossEnabled !== true || cluster.powerOff === undefined) throw new ActionError(NO_POWER_LOSS);
      return `${id} lost power: ${describePowerLoss(await cluster.powerOff(id))}`;
    }
  }
}

/** A whole-cluster power failure: every replica loses power at once, then all restart on what survived. */
export async function powerFailureAction(cluster: ControlledCluster): Promise<string> {
  if (cluster.powerLossEnabled !== true || cluster.powerOffAll === undefined) throw new ActionError(NO_POWER_LOSS);
  const lost = await cluster.powerOffAll();
  await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
  const dropped = Object.values(lost).reduce((n, l) => n + l.droppedBytes, 0);
  return `power failure: every replica lost power (${(dropped / 1024).toFixed(0)} KiB of unsynced data discarded) and restarted`;
}

/** Cut (blackhole) or heal both directions of the link a–b. */
export async function linkAction(proxy: LinkControl, a: string, b: string, action: 'partition' | 'heal'): Promise<string> {
  if (a === b || !proxy.ids.includes(a) || !proxy.ids.includes(b)) throw new ActionError(`no link ${a}–${b}`);
  await proxy.setMode([[a, b], [b, a]], action === 'partition' ? 'blackhole' : 'pass');
  return action === 'partition' ? `cut ${a}–${b}` : `healed ${a}–${b}`;
}

export async function splitAction(proxy: LinkControl, split: SplitName, leader: string | null): Promise<string> {
  switch (split) {
    case 'isolate-leader': {
      if (leader === null) throw new ActionError('no leader to isolate right now');
      return `isolated ${(await proxy.isolate(leader)).description}`;
    }
    case 'halves': {
      const half = Math.ceil(proxy.ids.length / 2);
      return `split ${(await proxy.split([proxy.ids.slice(0, half), proxy.ids.slice(half)])).description}`;
    }
    case 'heal-all':
      await proxy.healPartitions();
      return 'healed every link';
  }
}

/** Every undirected link with the mode of each direction. */
export function linkViews(proxy: LinkModes): LinkView[] {
  const out: LinkView[] = [];
  for (const a of proxy.ids) {
    for (const b of proxy.ids) {
      if (a < b) out.push({ a, b, ab: proxy.link(a, b).mode, ba: proxy.link(b, a).mode });
    }
  }
  return out;
}

function guard(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new ActionError((err as Error).message);
  }
}
