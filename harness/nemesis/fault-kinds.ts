/**
 * The nemesis's faults, in an extensible registry: each kind plans its targets from the seeded
 * rng (so a seed fixes the schedule) and knows how to start and stop itself against a running
 * cluster. New kinds plug in with registerFault().
 */
import type { Rng } from '../../protocols/common/rng.js';
import type { ClockControl } from '../clock/replica-clocks.js';
import type { FaultProxy } from '../proxy/fault-proxy.js';
import type { LinkMode } from '../proxy/link-proxy.js';
import { bridge, halves, isolate, oneWay, ring, shuffle, type PartitionShape } from '../proxy/partition-shapes.js';
import { clockFault } from './clock-fault.js';

/** The part of harness/cluster's Cluster the nemesis uses (a fake in tests). */
export interface ClusterControl {
  kill(id: string): Promise<void>;
  pause(id: string): void;
  resume(id: string): void;
  restart(id: string, opts?: { wipe?: boolean }): Promise<void>;
  replica(id: string): { state: string };
  /** PBFT only: the replica's misbehaviour from its next start (null: none). */
  setByzantine?(id: string, mode: string | null): void;
  /** On power-loss filesystems only (power-loss-faults.ts): SIGKILL these, then lose what they had not made durable. */
  powerOffAll?(ids: readonly string[]): Promise<Record<string, unknown>>;
}

/** Bandwidth limits by the kernel: tc tbf on each replica's veth (harness/hosts/bandwidth.ts). */
export interface BandwidthControl {
  limit(ids: readonly string[], bytesPerSec: number): Promise<void>;
  clearAll(): Promise<void>;
}

/** Who cuts links: the fault proxy, or the kernel between network namespaces (harness/hosts). */
export interface PartitionControl {
  partition(shape: PartitionShape, mode: Exclude<LinkMode, 'pass'>): void | Promise<void>;
  healPartitions(): void | Promise<void>;
}

export interface NemesisEnv {
  ids: readonly string[];
  cluster: ClusterControl;
  /** The fault proxy on every link; absent when replicas run in their own namespaces (`--hosts netns`). */
  proxy?: FaultProxy;
  /**
   * Where partitions are made when not at the proxy: iptables rules in the replicas' namespaces
   * (harness/hosts/kernel-partitions.ts). There a third of the partitions are one-way, chosen
   * when each starts from `rng` (so the seed's schedule is the same in both modes).
   */
  kernel?: PartitionControl;
  /** With `--hosts netns`: bandwidth limits made by the kernel (the `bandwidth` nemesis). */
  bandwidth?: BandwidthControl;
  /** The current leader, or null when none is known quickly. */
  findLeader(): Promise<string | null>;
  /** Runtime choices (a leader that is already down, ...), forked from the seed. */
  rng: Rng;
  /** The replicas' clocks, when they run under libfaketime (the `clock` nemesis needs them). */
  clocks?: ClockControl;
}

/** One planned fault. `targets` may hold "leader", resolved when the fault starts. */
export interface ScheduledFault {
  id: number;
  atMs: number;
  fault: string;
  targets: string[];
  durationMs: number;
  params?: Record<string, unknown>;
}

export interface PlanContext {
  rng: Rng;
  ids: readonly string[];
  /** Nodes no other overlapping fault takes down. */
  available: readonly string[];
  /**
   * How many more nodes may be impaired (down, or cut off from the majority by a partition)
   * during this fault's window without leaving the cluster without a live majority.
   */
  downCapacity: number;
  /** Whether the caller allowed a majority down at once. */
  allowMajorityDown: boolean;
  /** No other fault overlaps this window (a fault that takes every node down needs that). */
  idle: boolean;
  /** The faults planned so far, in order. */
  planned: readonly ScheduledFault[];
}

export interface FaultKind {
  name: string;
  /**
   * What the fault occupies: `nodes` faults take their targets down (kill, pause, ...) and count
   * towards the majority rule; `network` and `shaping` faults own the proxy's link modes and
   * delays, one of each at a time; a `clock` fault owns the clock of its target, one at a time
   * (clock-fault.ts).
   */
  resource: 'nodes' | 'network' | 'shaping' | 'clock';
  /** Faults of this kind last this many times as long as the others (default 1; clock-fault.ts). */
  durationScale?: number;
  /**
   * How many nodes the fault impairs: takes down, or cuts off from the majority. Overlapping
   * faults together impair at most a minority, unless a majority down was allowed.
   */
  impairs(fault: Pick<ScheduledFault, 'targets' | 'params'>, nodes: number): number;
  /**
   * Whether this fault takes every node down at once (a whole-cluster power failure): nothing may
   * overlap it, and it is the one fault the majority rule lets through, since no node is left
   * running to be outvoted. Absent: never.
   */
  exclusive?(fault: Pick<ScheduledFault, 'targets' | 'params'>): boolean;
  /** Targets and parameters, or null when it cannot run in this window. */
  plan(ctx: PlanContext): { targets: string[]; params?: Record<string, unknown> } | null;
  /** Start the fault; returns what to record in the history (resolved targets, ...). */
  start(fault: ScheduledFault, env: NemesisEnv, targets: string[]): Promise<Record<string, unknown>>;
  stop(fault: ScheduledFault, env: NemesisEnv, targets: string[]): Promise<Record<string, unknown>>;
}

const registry = new Map<string, FaultKind>();

export function registerFault(kind: FaultKind): void {
  registry.set(kind.name, kind);
}

export function faultKind(name: string): FaultKind {
  const kind = registry.get(name);
  if (kind === undefined) throw new Error(`unknown nemesis ${JSON.stringify(name)}; known: ${faultNames().join(', ')}`);
  return kind;
}

export function faultNames(): string[] {
  return [...registry.keys()];
}

/** See FaultKind.exclusive. */
export function isExclusive(fault: Pick<ScheduledFault, 'fault' | 'targets' | 'params'>): boolean {
  return faultKind(fault.fault).exclusive?.(fault) === true;
}

/** How many of the node targets; usually one, sometimes as many as allowed. */
export function pickNodes(ctx: PlanContext, leaderChance: number): string[] | null {
  const capacity = Math.min(ctx.downCapacity, ctx.available.length);
  if (capacity <= 0) return null;
  const count = capacity > 1 && ctx.rng.chance(0.3) ? ctx.rng.between(2, capacity) : 1;
  // Only a single target can be "the leader": the rest are concrete nodes.
  if (count === 1 && ctx.rng.chance(leaderChance)) return ['leader'];
  return shuffle(ctx.available, ctx.rng).slice(0, count).sort();
}

function nodeFault(
  name: string,
  leaderChance: number,
  down: (env: NemesisEnv, id: string) => Promise<void> | void,
  up: (env: NemesisEnv, id: string) => Promise<void> | void,
): FaultKind {
  return {
    name,
    resource: 'nodes',
    impairs: (fault) => fault.targets.length,
    plan: (ctx) => {
      const targets = pickNodes(ctx, leaderChance);
      return targets === null ? null : { targets };
    },
    start: async (_fault, env, targets) => {
      for (const id of targets) await down(env, id);
      return { nodes: targets };
    },
    stop: async (_fault, env, targets) => {
      await Promise.all(targets.map((id) => up(env, id)));
      return { nodes: targets };
    },
  };
}

registerFault(
  nodeFault(
    'kill',
    0.5,
    (env, id) => env.cluster.kill(id),
    (env, id) => env.cluster.restart(id),
  ),
);

registerFault(
  nodeFault(
    'pause',
    0.5,
    (env, id) => env.cluster.pause(id),
    (env, id) => env.cluster.resume(id),
  ),
);

/**
 * Crash a node and bring it back with an empty data directory. Raft and Multi-Paxos assume
 * durable state, so this can legitimately break them (a wiped node may vote twice in a term):
 * it is the nemesis that shows what durability buys, not one a correct protocol must survive.
 */
registerFault(
  nodeFault(
    'restart-wiped',
    0.3,
    (env, id) => env.cluster.kill(id),
    (env, id) => env.cluster.restart(id, { wipe: true }),
  ),
);

/** PBFT's Byzantine modes (`--byzantine MODE`, protocols/pbft/byzantine.ts). */
export const BYZANTINE_MODES = ['silent', 'equivocate', 'bad-digest', 'wrong-reply', 'forge', 'stale-view'] as const;

/**
 * PBFT: restart a replica (often the primary) misbehaving in a random Byzantine mode, and restart
 * it honest at the end. It counts as a node down: with the schedule's bound, at most f replicas
 * are faulty at once (Byzantine, crashed or paused together), which PBFT must survive.
 */
registerFault({
  name: 'byzantine',
  resource: 'nodes',
  impairs: (fault) => fault.targets.length,
  plan: (ctx) => {
    if (ctx.downCapacity < 1 || ctx.available.length === 0) return null;
    const targets = ctx.rng.chance(0.5) ? ['leader'] : [ctx.available[ctx.rng.int(ctx.available.length)]!];
    return { targets, params: { mode: BYZANTINE_MODES[ctx.rng.int(BYZANTINE_MODES.length)] } };
  },
  start: async (fault, env, targets) => {
    const mode = String(fault.params?.['mode'] ?? 'silent');
    for (const id of targets) {
      if (env.cluster.setByzantine === undefined) throw new Error('the byzantine nemesis needs a PBFT cluster');
      env.cluster.setByzantine(id, mode);
      await env.cluster.restart(id);
    }
    return { nodes: targets, mode };
  },
  stop: async (_fault, env, targets) => {
    for (const id of targets) {
      env.cluster.setByzantine?.(id, null);
      await env.cluster.restart(id);
    }
    return { nodes: targets };
  },
});

type ShapeChoice = 'isolate' | 'isolate-leader' | 'halves' | 'bridge' | 'ring';

/**
 * Nodes a partition shape cuts off from the majority: one for isolate, the minority for halves.
 * Bridge and ring leave no node alone, but whether a majority can still elect a leader depends
 * on who leads, so they count as the whole minority.
 */
function shapeImpairs(shape: string, nodes: number): number {
  return shape === 'isolate' ? 1 : Math.max(1, Math.floor((nodes - 1) / 2));
}

registerFault({
  name: 'partition',
  resource: 'network',
  impairs: (fault, nodes) => shapeImpairs(String(fault.params?.['shape'] ?? 'isolate'), nodes),
  plan: (ctx) => {
    const all: ShapeChoice[] = ['isolate', 'isolate-leader', 'isolate-leader', 'halves', 'bridge'];
    if (ctx.ids.length >= 5) all.push('ring');
    const n = ctx.ids.length;
    const choices = ctx.allowMajorityDown ? all : all.filter((c) => shapeImpairs(c.startsWith('isolate') ? 'isolate' : c, n) <= ctx.downCapacity);
    if (choices.length === 0) return null;
    const choice = choices[ctx.rng.int(choices.length)]!;
    const mode: LinkMode = ctx.rng.chance(0.25) ? 'refuse' : 'blackhole';
    if (choice === 'isolate-leader') return { targets: ['leader'], params: { shape: 'isolate', mode } };
    if (choice === 'isolate') return { targets: [ctx.ids[ctx.rng.int(ctx.ids.length)]!], params: { shape: 'isolate', mode } };
    const shape = concreteShape(choice, ctx.ids, ctx.rng);
    return { targets: targetsOf(shape), params: { shape: shape.name, mode, cut: shape.cut, description: shape.description } };
  },
  start: async (fault, env, targets) => {
    const mode = (fault.params?.['mode'] as Exclude<LinkMode, 'pass'> | undefined) ?? 'blackhole';
    const cut = fault.params?.['cut'] as Array<[string, string]> | undefined;
    const symmetric: PartitionShape =
      cut === undefined
        ? isolate(env.ids, targets[0]!)
        : { name: fault.params?.['shape'] as PartitionShape['name'], description: String(fault.params?.['description']), cut };
    const deaf = env.kernel !== undefined && env.rng.chance(1 / 3) ? deafSide(symmetric, targets, env) : null;
    const shape = deaf === null ? symmetric : oneWay(symmetric, deaf);
    await partitioner(env).partition(shape, mode);
    return { shape: shape.name, description: shape.description, mode, nodes: targets, ...(deaf === null ? {} : { oneWay: true, deaf }), by: env.kernel === undefined ? 'proxy' : 'kernel' };
  },
  stop: async (_fault, env, targets) => {
    await partitioner(env).healPartitions();
    return { nodes: targets };
  },
});

/** The kernel's iptables when replicas have their own namespaces, else the fault proxy. */
function partitioner(env: NemesisEnv): PartitionControl {
  const p = env.kernel ?? env.proxy;
  if (p === undefined) throw new Error('the partition nemesis needs the fault proxy or hosts with their own network');
  return p;
}

/**
 * Who goes deaf in a one-way partition: an isolated node, or all the others (a coin flip); in the
 * other shapes, half of the nodes with a cut link.
 */
function deafSide(shape: PartitionShape, targets: readonly string[], env: NemesisEnv): string[] {
  if (shape.name === 'isolate') {
    const alone = targets[0]!;
    return env.rng.chance(0.5) ? [alone] : env.ids.filter((id) => id !== alone);
  }
  const involved = shuffle([...new Set(shape.cut.flat())].sort(), env.rng);
  return involved.slice(0, Math.ceil(involved.length / 2)).sort();
}

registerFault({
  name: 'delay',
  resource: 'shaping',
  impairs: () => 0,
  plan: (ctx) => {
    const everywhere = ctx.rng.chance(0.5);
    const targets = everywhere ? [...ctx.ids] : [ctx.ids[ctx.rng.int(ctx.ids.length)]!];
    const params: Record<string, unknown> = {
      delayMs: ctx.rng.between(10, 150),
      jitterMs: ctx.rng.between(0, 100),
      bandwidthBytesPerSec: ctx.rng.chance(0.3) ? ctx.rng.between(20, 200) * 1024 : null,
    };
    return { targets, params };
  },
  start: async (fault, env, targets) => {
    const p = fault.params ?? {};
    const shaping = {
      delayMs: Number(p['delayMs'] ?? 0),
      jitterMs: Number(p['jitterMs'] ?? 0),
      bandwidthBytesPerSec: (p['bandwidthBytesPerSec'] as number | null | undefined) ?? null,
    };
    const proxy = needProxy(env);
    proxy.shape(proxy.linksOf(targets), shaping);
    return { nodes: targets, ...shaping };
  },
  stop: async (_fault, env, targets) => {
    needProxy(env).clearShaping();
    return { nodes: targets };
  },
});

/**
 * A slow network interface: one replica's (or every replica's) traffic limited to 20–200 KiB/s in
 * each direction. With `--hosts netns` the kernel does it (a token bucket filter, tc-tbf(8), on
 * the replica's veth, so its clients are slowed too, as on a host with a slow link); on loopback
 * the fault proxy throttles the replica-to-replica links. What it exposes: replication and
 * snapshot transfers that cannot keep up, heartbeats queued behind bulk data, timeouts that are
 * too short for a slow link.
 */
registerFault({
  name: 'bandwidth',
  resource: 'shaping',
  impairs: () => 0,
  plan: (ctx) => {
    const everywhere = ctx.rng.chance(0.3);
    const targets = everywhere ? [...ctx.ids] : [ctx.ids[ctx.rng.int(ctx.ids.length)]!];
    return { targets, params: { bytesPerSec: ctx.rng.between(20, 200) * 1024 } };
  },
  start: async (fault, env, targets) => {
    const bytesPerSec = Number(fault.params?.['bytesPerSec'] ?? 64 * 1024);
    if (env.bandwidth !== undefined) {
      await env.bandwidth.limit(targets, bytesPerSec);
    } else {
      const proxy = needProxy(env, 'bandwidth');
      proxy.shape(proxy.linksOf(targets), { delayMs: 0, jitterMs: 0, bandwidthBytesPerSec: bytesPerSec });
    }
    return { nodes: targets, bytesPerSec, by: env.bandwidth === undefined ? 'proxy' : 'tc tbf' };
  },
  stop: async (_fault, env, targets) => {
    if (env.bandwidth !== undefined) await env.bandwidth.clearAll();
    else needProxy(env, 'bandwidth').clearShaping();
    return { nodes: targets };
  },
});

/** Delay and jitter are the proxy's: this kernel has no `tc netem` (harness/hosts/bandwidth.ts). */
function needProxy(env: NemesisEnv, name = 'delay'): FaultProxy {
  if (env.proxy === undefined) throw new Error(`the ${name} nemesis needs the fault proxy (--hosts loopback): this kernel has no tc netem for delay and jitter`);
  return env.proxy;
}

/** One replica's clock runs fast or slow, jumps, or strobes (clock-fault.ts). */
registerFault(clockFault);

function concreteShape(choice: 'halves' | 'bridge' | 'ring', ids: readonly string[], rng: Rng): PartitionShape {
  switch (choice) {
    case 'halves':
      return halves(ids, rng);
    case 'bridge':
      return bridge(ids, rng);
    case 'ring':
      return ring(ids, rng);
  }
}

/** The nodes a partition affects: everyone with at least one cut link. */
function targetsOf(shape: PartitionShape): string[] {
  return [...new Set(shape.cut.flat())].sort();
}
