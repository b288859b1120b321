/**
 * Power failures (harness/lazyfs). The replicas' data directories must be on power-loss
 * filesystems (ClusterOptions.lazyfs; the chaos command mounts them when one of these nemeses is
 * asked for). A power failure SIGKILLs the replica, then its disk discards every write the replica
 * had not made durable (data not fsync'ed, directory entries whose directory was not fsync'ed),
 * as a machine that lost power would; when the fault ends the replica restarts on what survived.
 * SIGKILL alone (the `kill` nemesis) cannot show a missing fsync: the page cache survives it.
 *
 * - `power-loss`: a partial power failure, targets as `kill` picks them (one node, sometimes the
 *   leader, or with 5+ nodes sometimes two; the schedule's limits hold: at most a minority, PBFT at
 *   most f, unless --allow-majority-down). In a window that no other fault overlaps it is a
 *   whole-cluster power failure instead: always the first time, so that every schedule with a free
 *   window has one (only losing every copy at once shows a missing fsync for sure: a replica that
 *   lost its disk alone catches up from the others), then with probability WHOLE_CLUSTER_CHANCE.
 * - `power-loss-all`: only whole-cluster power failures: every replica loses power at once, then
 *   all restart together. The one fault the majority rule lets through (FaultKind.exclusive): the
 *   cluster cannot serve while it lasts, but afterwards nothing acknowledged may be missing.
 */
import type { PowerLossResult } from '../lazyfs/lazyfs.js';
import { pickNodes, registerFault, type FaultKind, type NemesisEnv, type ScheduledFault } from './fault-kinds.js';

/** Chance that a later `power-loss` fault in a window free of other faults takes the whole cluster. */
export const WHOLE_CLUSTER_CHANCE = 0.5;

export const POWER_LOSS_FAULTS = ['power-loss', 'power-loss-all'] as const;

/** Whether these nemeses need the replicas on power-loss filesystems. */
export function needsPowerLossFs(nemesis: readonly string[]): boolean {
  return nemesis.some((n) => (POWER_LOSS_FAULTS as readonly string[]).includes(n));
}

const wholeCluster = (fault: Pick<ScheduledFault, 'params'>): boolean => fault.params?.['wholeCluster'] === true;

async function powerOff(env: NemesisEnv, fault: ScheduledFault, targets: string[]): Promise<Record<string, unknown>> {
  if (env.cluster.powerOffAll === undefined) throw new Error(`${fault.fault} needs the replicas on the power-loss filesystem (ClusterOptions.lazyfs)`);
  const lost = (await env.cluster.powerOffAll(targets)) as Record<string, PowerLossResult>;
  return { nodes: targets, wholeCluster: wholeCluster(fault), lost };
}

async function restart(env: NemesisEnv, targets: string[]): Promise<Record<string, unknown>> {
  await Promise.all(targets.map((id) => env.cluster.restart(id)));
  return { nodes: targets };
}

const common: Pick<FaultKind, 'resource' | 'impairs' | 'exclusive' | 'start' | 'stop'> = {
  resource: 'nodes',
  impairs: (fault, nodes) => (wholeCluster(fault) ? nodes : fault.targets.length),
  exclusive: wholeCluster,
  start: (fault, env, targets) => powerOff(env, fault, targets),
  stop: (_fault, env, targets) => restart(env, targets),
};

registerFault({
  ...common,
  name: 'power-loss',
  plan: (ctx) => {
    const first = !ctx.planned.some((f) => POWER_LOSS_FAULTS.includes(f.fault as never) && wholeCluster(f));
    if (ctx.idle && (first || ctx.rng.chance(WHOLE_CLUSTER_CHANCE))) return { targets: [...ctx.ids], params: { wholeCluster: true } };
    const targets = pickNodes(ctx, 0.5);
    return targets === null ? null : { targets };
  },
});

registerFault({
  ...common,
  name: 'power-loss-all',
  plan: (ctx) => (ctx.idle ? { targets: [...ctx.ids], params: { wholeCluster: true } } : null),
});
