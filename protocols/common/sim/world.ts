/**
 * The world every protocol's seeded simulation runs in (in the spirit of TigerBeetle's simulator):
 * a discrete-event loop over a virtual clock, a faulty network (network.ts), replicas that crash,
 * losing everything not yet persisted, and restart from their simulated disk, disks that take a
 * while to persist a Ready (and sometimes crash the replica meanwhile), clients and faults that
 * arrive at random gaps, and the liveness phase: after the final heal the cluster must recover.
 *
 * A protocol's simulation extends SimWorld with its adapter (how to start, crash and restart its
 * replica, what a tick, a delivery, a persisted Ready and a client do, which faults it injects) and
 * its own invariants. Every draw comes from one seeded rng in a fixed order: a seed is one run.
 *
 * Pure: no timers, no clock, no I/O.
 */
import { invariant } from '../invariant.js';
import { SeededRng, type Rng } from '../rng.js';
import { EventQueue } from './event-queue.js';
import { Network, type NetworkRates } from './network.js';
import { SimulationFailure } from './sim-run.js';
import { TICK } from './time.js';

export { TICK };

/** A replica as the world sees it: each life (incarnation) has its own epoch. */
export interface WorldNode {
  /** Bumped on every start and crash: events of an earlier life are ignored. */
  epoch: number;
}

/** The events the world handles itself; a protocol adds its own (ticks, deliveries, ...). */
export type WorldEvent<N> =
  | { kind: 'client' }
  | { kind: 'fault' }
  | { kind: 'persisted'; node: N; epoch: number }
  | { kind: 'crash'; node: N; epoch: number }
  | { kind: 'restart'; node: N }
  | { kind: 'heal'; partition: number };

/** The environment knobs every protocol's simulation draws per seed. */
export interface Environment extends NetworkRates {
  /** A Ready takes 1..persistMax time units to persist (5 ticks when the disk stalls). */
  persistMax: number;
  /** Gaps between faults and between client requests, in time units. */
  faultGap: number;
  clientGap: number;
  /** Chance that a replica crashes while persisting a given Ready (the riskiest moment). */
  crashWhilePersistingRate: number;
}

export interface WorldOptions {
  protocol: string;
  seed: number;
  /** Events processed while faults are injected. */
  steps: number;
  /** The command that replays the run, named by every failure. */
  replay: string;
  log?: ((line: string) => void) | undefined;
  logMessages?: boolean | undefined;
  /** See Network: slow links end at the final heal (PBFT) or not (Raft, Multi-Paxos). */
  slowOnlyWhileFaulty?: boolean;
}

/** How long the liveness phase waits (runUntil). */
export interface LivenessLimits {
  /** Ticks without progress before the run fails. */
  ticks: number;
  /** With `progress`: the deadline moves while it grows, up to this many windows in all. */
  windows?: number;
  progress?: () => number;
  /** Runs before every step (a protocol proposes its marker command here). */
  beforeStep?: () => void;
}

export abstract class SimWorld<N extends WorldNode, E extends { kind: string }, P extends Environment, Id> {
  readonly seed: number;
  readonly steps: number;
  readonly rng: SeededRng;
  /** The knobs drawn from the seed, first of all draws. */
  readonly params: P;
  protected readonly queue = new EventQueue<E | WorldEvent<N>>();
  protected readonly net: Network<Id>;
  protected readonly logMessages: boolean;
  /** Virtual time now. */
  protected now = 0;
  /** Faults are injected until the final heal (endFaults). */
  protected faulty = true;
  private readonly protocol: string;
  private readonly replay: string;
  private readonly log: ((line: string) => void) | undefined;

  /** Every replica of the run; the world restarts them all at the final heal. */
  protected abstract readonly nodes: readonly N[];

  constructor(options: WorldOptions, drawParams: (rng: Rng) => P) {
    this.protocol = options.protocol;
    this.seed = options.seed;
    this.steps = options.steps;
    this.replay = options.replay;
    this.log = options.log;
    this.logMessages = options.logMessages ?? false;
    this.rng = new SeededRng(options.seed);
    this.params = drawParams(this.rng);
    this.net = new Network<Id>(this.rng, this.params, options.slowOnlyWhileFaulty);
  }

  // ---------------------------------------------------------------- the adapter

  /** A protocol's own events. */
  protected abstract handleOwn(event: E): void;
  /** The Ready being persisted is durable: the runtime's steps after the persist. */
  protected abstract onPersisted(node: N, epoch: number): void;
  /** A client acts (a request, a read...); the next client event is already scheduled. */
  protected abstract onClient(): void;
  /** A fault is due; `roll` (uniform in [0, 1)) picks which kind. */
  protected abstract onFault(roll: number): void;
  /** Everything not persisted is lost; a restart is scheduled with restartLater. */
  protected abstract crash(node: N): void;
  /** Boots a replica that is down from its disk (nothing if it is up). */
  protected abstract restart(node: N): void;
  /** Checks after every event (safety invariants). */
  protected afterStep(): void {}

  // ---------------------------------------------------------------- event loop

  protected step(): void {
    const next = this.queue.pop();
    invariant(next !== undefined, 'event queue ran dry');
    this.now = next.time;
    this.handle(next.event);
    this.afterStep();
  }

  protected handle(event: E | WorldEvent<N>): void {
    const world = event as WorldEvent<N>;
    switch (world.kind) {
      case 'client':
        this.queue.push(this.now + this.rng.between(1, this.params.clientGap), { kind: 'client' });
        return this.onClient();
      case 'fault':
        if (!this.faulty) return;
        this.queue.push(this.now + this.rng.between(1, this.params.faultGap), { kind: 'fault' });
        return this.onFault(this.rng.next());
      case 'persisted':
        return this.onPersisted(world.node, world.epoch);
      case 'crash':
        if (world.node.epoch === world.epoch) this.crash(world.node);
        return;
      case 'restart':
        return this.restart(world.node);
      case 'heal':
        if (this.net.isCurrent(world.partition)) this.heal();
        return;
      default:
        return this.handleOwn(event as E);
    }
  }

  /** The faulty phase: clients and faults start, and `steps` events run. */
  protected runFaultPhase(): void {
    this.queue.push(this.rng.between(1, this.params.clientGap), { kind: 'client' });
    this.queue.push(this.rng.between(1, this.params.faultGap), { kind: 'fault' });
    for (let step = 0; step < this.steps; step++) this.step();
  }

  // ---------------------------------------------------------------- network

  /** Sends through the network: `deliver` is scheduled at each delivery; false if it was dropped. */
  protected transmit(from: Id, to: Id, deliver: E): boolean {
    const times = this.net.deliveries(from, to, this.now);
    for (const time of times) this.queue.push(time, deliver);
    return times.length > 0;
  }

  /**
   * Installs a partition (network.ts) that heals after 5..healMaxTicks ticks unless another
   * partition or heal comes first; returns the sides, for the protocol's trace.
   */
  protected partitionNetwork(sides: Map<Id, number>, ids: readonly Id[], healMaxTicks: number): ReadonlyMap<Id, number> {
    const partition = this.net.partition(sides, ids);
    this.queue.push(this.now + this.rng.between(5 * TICK, healMaxTicks * TICK), { kind: 'heal', partition });
    return sides;
  }

  protected heal(): void {
    if (this.net.heal()) this.trace('network healed');
  }

  // ---------------------------------------------------------------- disks, crashes, restarts

  /**
   * The disk persists a Ready in 1..persistMax time units (5 ticks when it stalls). With faults
   * on, the replica may crash meanwhile: the chance is crashWhilePersistingRate times `crashWeight`
   * (10 for a Ready whose loss does most harm; 0 for a replica that never crashes).
   */
  protected persistLater(node: N, crashWeight: number): void {
    const stall = this.rng.chance(0.05);
    const delay = this.rng.between(1, stall ? 5 * TICK : this.params.persistMax);
    this.queue.push(this.now + delay, { kind: 'persisted', node, epoch: node.epoch });
    if (this.faulty && crashWeight > 0 && this.rng.chance(this.params.crashWhilePersistingRate * crashWeight)) {
      this.queue.push(this.now + this.rng.int(delay), { kind: 'crash', node, epoch: node.epoch });
    }
  }

  /**
   * A crashed replica comes back after a short or a long downtime: quick restarts meet messages
   * sent before the crash, which is where lost state shows.
   */
  protected restartLater(node: N, maxDownTicks: number): void {
    const downtime = this.rng.chance(0.5) ? this.rng.between(1, 2 * TICK) : this.rng.between(TICK, maxDownTicks * TICK);
    this.queue.push(this.now + downtime, { kind: 'restart', node });
  }

  // ---------------------------------------------------------------- liveness

  /** The final heal: no more crashes, partitions, drops or duplicates; every replica is up. */
  protected endFaults(): void {
    this.faulty = false;
    this.net.faulty = false;
    this.heal();
    for (const node of this.nodes) this.restart(node);
    this.trace('faults end');
  }

  /**
   * Runs until `done`; fails through `timedOut` when `limits.ticks` pass without it (or, with
   * `limits.progress`, without progress, up to `limits.windows` windows in all).
   */
  protected runUntil(done: () => boolean, limits: LivenessLimits, timedOut: () => never): void {
    const window = limits.ticks * TICK;
    const limit = this.now + (limits.windows ?? 1) * window;
    let deadline = this.now + window;
    let progress = limits.progress?.() ?? 0;
    while (!done()) {
      const now = limits.progress?.() ?? 0;
      if (now > progress) {
        progress = now;
        deadline = Math.min(limit, this.now + window);
      }
      if (this.now > deadline) timedOut();
      limits.beforeStep?.();
      this.step();
    }
  }

  // ---------------------------------------------------------------- reporting

  /** Virtual time in whole ticks since `from`. */
  protected ticksSince(from: number): number {
    return Math.ceil((this.now - from) / TICK);
  }

  protected fail(reason: string): never {
    throw new SimulationFailure(this.protocol, this.seed, `${reason} (at t=${this.now / TICK} ticks)`, this.replay);
  }

  protected trace(line: string): void {
    this.log?.(`[t=${(this.now / TICK).toFixed(1)}] ${line}`);
  }
}
