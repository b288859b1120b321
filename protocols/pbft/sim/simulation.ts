/**
 * A seeded, deterministic simulation of a PBFT cluster, the twin of the Raft and Multi-Paxos ones:
 * PBFT's adapter to the shared world of protocols/common/sim/ (event loop, faulty network, crashes
 * and restarts, disk latency, liveness phase), its Byzantine replicas and clients, and its own
 * checks. The world drives 4 or 7 replicas exactly through the Ready contract (persist, then send,
 * then advance), over a network that drops, delays, reorders and duplicates messages and
 * partitions replicas. Up to f replicas are Byzantine (drawn from the six modes of byzantine.ts);
 * correct replicas crash (losing everything not yet persisted, the Ready being persisted included)
 * and restart with PbftReplica.restore from their simulated disk. Clients (simulated gateways and
 * library clients with a ReplyQuorum) issue put, get, cas and delete, some reads on the read-only
 * path. After every event the PbftSafetyChecker checks agreement, equal checkpoint states and
 * client safety; at the end, with the network healed and every correct replica up (at most f
 * faulty), every client's operation must complete, and then, with the clients stopped, every
 * correct replica must execute what any correct replica executed within CATCH_UP_TICKS (a replica
 * behind must fetch, not wait for a checkpoint that never comes), plus the view changes still to
 * come when fetching cannot help (catchUpAllowance).
 *
 * Pure: no timers, no clock, no I/O. A seed fully determines a run.
 */
import { runGuarded, SimulationFailure } from '../../common/sim/sim-run.js';
import { invariant } from '../../common/invariant.js';
import type { Rng } from '../../common/rng.js';
import { SimWorld, TICK } from '../../common/sim/world.js';
import type { KvOperation } from '../../kv/commands.js';
import { BYZANTINE_MODES, ByzantineReplica, type ByzantineMode } from '../byzantine.js';
import { PbftReplica } from '../pbft-replica.js';
import { ReplyQuorum } from '../reply-quorum.js';
import { PbftSafetyChecker } from './sim-checker.js';
import { SimKeyRing } from './sim-crypto.js';
import type { ClientRequest, PbftConfig, PbftMessage, PbftReady, PbftReplicaApi } from '../types.js';
import { byzantineF } from '../../common/quorum.js';

/** Thrown with the seed and the command replaying the run (protocols/common/sim/sim-run.ts). */
export { SimulationFailure };

export interface SimulationOptions {
  seed: number;
  /** Replicas; by default 4, and 7 for every third seed. */
  nodes?: number;
  /** Events processed while faults are injected; then the cluster is healed and must recover. */
  steps?: number;
  /** Byzantine replicas (default: 0..f drawn from the seed) and their modes (default: drawn). */
  byzantine?: number;
  modes?: ByzantineMode[];
  log?: (line: string) => void;
  logMessages?: boolean;
}

export interface SimulationReport {
  seed: number;
  nodes: number;
  f: number;
  byzantine: string[];
  authentication: string;
  steps: number;
  virtualTicks: number;
  executedBatches: number;
  checkpoints: number;
  acceptedWrites: number;
  acceptedReads: number;
  readFallbacks: number;
  highestView: number;
  crashes: number;
  partitions: number;
  messagesSent: number;
  messagesDropped: number;
  rejectedAuth: number;
  stateTransfers: number;
  recoveryTicks: number;
  /** Ticks after the clients finished until every correct replica executed what any had. */
  catchUpTicks: number;
}

export const DEFAULT_STEPS = 4000;
const LIVENESS_TICKS = 20_000;
/** After the clients finish, every correct replica reaches the highest executed n within this. */
const CATCH_UP_TICKS = 400;

/**
 * The view changes the catch-up may still have to wait for. Fetching a committed batch needs f+1
 * replicas that executed it (TOCS §6.2); when only f correct ones did, the others can execute it
 * only in a new view, and a view change that is under way waits for its timer, doubled per
 * consecutive view change (OSDI §4.5.2), before the next one starts. With up to f faulty primaries
 * in a row, that is at most T + 2T + ... + 2^f T < 2^(f+1) T, T the longest timeout running now.
 * Seed 77000055 (7 replicas): primaries 3 (silent) and 4 (bad digests) in a row left three correct
 * replicas in a view change whose timers had reached 160 to 640 ticks.
 */
export function catchUpAllowance(timeoutsTicks: number[], f: number): number {
  return Math.max(0, ...timeoutsTicks) * 2 ** (f + 1);
}

export function defaultNodes(seed: number): number {
  return seed % 3 === 0 ? 7 : 4;
}

export function replayCommand(options: SimulationOptions): string {
  let command = `npm run sim:pbft -- --seed ${options.seed}`;
  if (options.nodes !== undefined && options.nodes !== defaultNodes(options.seed)) command += ` --nodes ${options.nodes}`;
  if (options.steps !== undefined && options.steps !== DEFAULT_STEPS) command += ` --steps ${options.steps}`;
  if (options.byzantine !== undefined) command += ` --byzantine ${options.byzantine}`;
  if (options.modes !== undefined) command += ` --modes ${options.modes.join(',')}`;
  return command;
}

export function simulate(options: SimulationOptions): SimulationReport {
  return runGuarded('pbft', options.seed, replayCommand(options), () => new Simulation(options).run(), true);
}

interface Params {
  checkpointInterval: number;
  windowFactor: number;
  maxBatchRequests: number;
  requestTimeoutTicks: number;
  authentication: 'mac' | 'sign-all';
  dropRate: number;
  duplicateRate: number;
  slowRate: number;
  persistMax: number;
  faultGap: number;
  clientGap: number;
  clients: number;
  crashWhilePersistingRate: number;
  maxCarriedBatchBytes: number;
  maxBatchesInFlight: number;
}

function drawParams(rng: Rng): Params {
  const pick = <T>(values: readonly T[]): T => values[rng.int(values.length)] as T;
  return {
    checkpointInterval: pick([2, 4, 8]),
    windowFactor: pick([1, 2, 4]),
    maxBatchRequests: pick([1, 3, 16]),
    requestTimeoutTicks: pick([15, 25, 40]),
    authentication: rng.chance(0.25) ? 'sign-all' : 'mac',
    dropRate: pick([0, 0.02, 0.08]),
    duplicateRate: pick([0, 0.03, 0.1]),
    slowRate: pick([0, 0.05, 0.2]),
    persistMax: pick([2, 8, 20]),
    faultGap: pick([150, 400, 1200]),
    clientGap: pick([5, 20, 60]),
    clients: pick([2, 3, 5]),
    crashWhilePersistingRate: pick([0, 0.002, 0.01]),
    // Small bounds make ViewChanges and NewViews leave batches out, to be fetched (FetchBatches).
    maxCarriedBatchBytes: pick([1 << 20, 1000, 300]),
    maxBatchesInFlight: pick([1, 2, 1000]),
  };
}

interface SimNode {
  id: number;
  replica: PbftReplicaApi | null;
  byzantine: ByzantineMode | null;
  epoch: number;
  disk: Map<string, unknown>;
  persisting: PbftReady | null;
  core: PbftReplica | null;
}

interface Operation {
  request: ClientRequest;
  kind: 'ordered' | 'read';
  quorum: ReplyQuorum;
  startedAt: number;
  lastSentAt: number;
}

interface SimClient {
  id: string;
  seq: number;
  op: Operation | null;
  completed: number;
}

/** PBFT's own events (the world's are in protocols/common/sim/world.ts). */
type PbftEvent = { kind: 'tick'; node: SimNode; epoch: number } | { kind: 'deliver'; from: number; to: number; message: PbftMessage };

class Simulation extends SimWorld<SimNode, PbftEvent, Params, number> {
  private readonly n: number;
  private readonly f: number;
  private readonly ring: SimKeyRing;
  protected readonly nodes: SimNode[];
  /** Replica ids 0..n-1, as the network names them. */
  private readonly ids: number[];
  private readonly clients: SimClient[];
  private readonly checker: PbftSafetyChecker;
  private readonly expectLive: boolean;
  /** No new client operations: the catch-up check runs on an idle cluster (no next checkpoint). */
  private quiet = false;
  private catchUpTicks = 0;
  private valueSeq = 0;
  private highestView = 0;
  /** State transfers completed by replica incarnations that later crashed. */
  private stateTransfers = 0;
  private readonly stats = {
    acceptedWrites: 0,
    acceptedReads: 0,
    readFallbacks: 0,
    crashes: 0,
    partitions: 0,
    messagesSent: 0,
    messagesDropped: 0,
  };

  constructor(options: SimulationOptions) {
    const { seed, log, logMessages } = options;
    const steps = options.steps ?? DEFAULT_STEPS;
    super({ protocol: 'pbft', seed, steps, replay: replayCommand(options), log, logMessages, slowOnlyWhileFaulty: true }, drawParams);
    this.n = options.nodes ?? defaultNodes(options.seed);
    invariant(this.n >= 1 && this.n <= 13, 'nodes must be 1..13');
    this.f = byzantineF(this.n);
    this.checker = new PbftSafetyChecker(this.f, (reason) => this.fail(reason));
    this.ring = new SimKeyRing(options.seed, this.n);
    // More than f only when asked for explicitly (README: "What breaks with f+1"); liveness is
    // then not checked, since it cannot hold.
    const byzantineCount = Math.min(this.n - 1, options.byzantine ?? this.rng.int(this.f + 1));
    this.expectLive = byzantineCount <= this.f;
    const byzantineIds = new Set<number>();
    while (byzantineIds.size < byzantineCount) byzantineIds.add(this.rng.int(this.n));
    const modes = options.modes ?? [];
    let k = 0;
    this.nodes = Array.from({ length: this.n }, (_, id) => {
      const mode = byzantineIds.has(id) ? (modes[k++ % Math.max(1, modes.length)] ?? BYZANTINE_MODES[this.rng.int(BYZANTINE_MODES.length)] as ByzantineMode) : null;
      return { id, replica: null, byzantine: mode, epoch: 0, disk: new Map(), persisting: null, core: null };
    });
    this.ids = this.nodes.map((node) => node.id);
    this.clients = Array.from({ length: this.params.clients }, (_, c) => ({ id: `c${c}`, seq: 0, op: null, completed: 0 }));
  }

  run(): SimulationReport {
    this.trace(`params ${JSON.stringify(this.params)} byzantine ${this.byzantineList().join(',') || 'none'}`);
    for (const node of this.nodes) this.start(node);
    this.runFaultPhase();
    const healedAt = this.now;
    this.endFaults();
    if (this.expectLive) {
      this.runUntilRecovered();
      this.runUntilCaughtUp();
    }
    return this.report(this.ticksSince(healedAt));
  }

  private byzantineList(): string[] {
    return this.nodes.filter((x) => x.byzantine !== null).map((x) => `${x.id}:${x.byzantine}`);
  }

  private correct(id: number): boolean {
    return this.nodes[id]?.byzantine === null;
  }

  // ---------------------------------------------------------------- event loop

  protected handleOwn(event: PbftEvent): void {
    switch (event.kind) {
      case 'tick':
        return this.onTick(event.node, event.epoch);
      case 'deliver':
        return this.onDeliver(event.from, event.to, event.message);
      default: {
        const unknown: never = event;
        return unknown;
      }
    }
  }

  private onTick(node: SimNode, epoch: number): void {
    if (node.replica === null || node.epoch !== epoch) return;
    node.replica.tick();
    this.pump(node);
    this.queue.push(this.now + TICK, { kind: 'tick', node, epoch });
  }

  private onDeliver(from: number, to: number, message: PbftMessage): void {
    const node = this.nodes[to];
    if (node?.replica == null || !this.net.linked(from, to)) return;
    if (this.logMessages) this.trace(`deliver ${from}->${to} ${describe(message)}`);
    node.replica.step(from, message);
    this.pump(node);
  }

  /** Takes a Ready; it is persisted after a delay, and only then are its messages sent. */
  private pump(node: SimNode): void {
    const replica = node.replica;
    if (replica === null || node.persisting !== null || !replica.hasReady()) return;
    const rd = replica.ready();
    if (node.byzantine === null) this.observeExecutions(node.id, rd);
    node.persisting = rd;
    // Byzantine replicas never crash; a Ready that writes records is the riskiest moment.
    this.persistLater(node, node.byzantine !== null ? 0 : rd.persist.length > 0 ? 10 : 1);
  }

  /** What a correct replica executed and checkpointed, as its Ready hands it out (before any crash can lose it). */
  private observeExecutions(id: number, rd: PbftReady): void {
    for (const e of rd.executedBatches) this.checker.observeExecuted(id, e.sequence, e.digest);
    for (const c of rd.checkpoints) this.checker.observeCheckpoint(id, c.sequence, c.digest);
  }

  protected onPersisted(node: SimNode, epoch: number): void {
    const rd = node.persisting;
    const replica = node.replica;
    if (replica === null || node.epoch !== epoch || rd === null) return;
    for (const p of rd.persist) {
      if ('delete' in p) node.disk.delete(p.key);
      else node.disk.set(p.key, p.value); // the core never mutates what it handed out
    }
    for (const m of rd.messages) this.send(node.id, m.to, m.message);
    this.deliverOutputs(node, rd);
    node.persisting = null;
    replica.advance(rd);
    const view = replica.status().view;
    if (view > this.highestView) this.highestView = view;
    this.pump(node);
  }

  // ---------------------------------------------------------------- network

  private send(from: number, to: number, message: PbftMessage): void {
    this.stats.messagesSent++;
    if (this.correct(from)) {
      if (message.type === 'ReadReply') this.checker.observeRead(from, message.clientId, message.seq, message.result);
      if (message.type === 'PrePrepare' || message.type === 'Prepare' || message.type === 'Commit') {
        this.checker.observeVote(message.type, from, message.view, message.sequence, message.digest);
      }
    }
    if (!this.transmit(from, to, { kind: 'deliver', from, to, message })) this.stats.messagesDropped++;
  }

  // ---------------------------------------------------------------- clients

  protected onClient(): void {
    const idle = this.clients.filter((c) => c.op === null);
    if (idle.length > 0 && !this.quiet && (this.faulty || this.rng.chance(0.3))) this.startOperation(idle[this.rng.int(idle.length)] as SimClient);
    for (const c of this.clients) if (c.op !== null) this.maybeRetry(c.op);
  }

  private startOperation(client: SimClient, forceWrite = false): void {
    const key = `k${this.rng.int(4)}`;
    const roll = forceWrite ? 0 : this.rng.next();
    const value = `v${++this.valueSeq}`;
    let operation: KvOperation;
    if (roll < 0.4) operation = { op: 'put', key, value };
    else if (roll < 0.7) operation = { op: 'get', key };
    else if (roll < 0.85) operation = { op: 'cas', key, expected: this.rng.chance(0.5) ? null : `v${this.rng.int(this.valueSeq) + 1}`, value };
    else operation = { op: 'delete', key };
    const origin = this.rng.chance(0.6) ? this.someCorrectUp() : -1;
    const request: ClientRequest = { clientId: client.id, seq: ++client.seq, operation, origin };
    const read = operation.op === 'get' && this.rng.chance(0.5);
    client.op = {
      request,
      kind: read ? 'read' : 'ordered',
      quorum: new ReplyQuorum(this.f, read ? 2 * this.f + 1 : this.f + 1),
      startedAt: this.now,
      lastSentAt: this.now,
    };
    this.sendOperation(client.op);
  }

  private someCorrectUp(): number {
    const up = this.nodes.filter((x) => x.byzantine === null && x.replica !== null);
    return up[this.rng.int(up.length)]?.id ?? -1;
  }

  private sendOperation(op: Operation): void {
    op.lastSentAt = this.now;
    const origin = op.request.origin;
    const targets = origin >= 0 ? [this.nodes[origin] as SimNode] : this.nodes;
    for (const node of targets) {
      if (node.replica === null) continue;
      if (op.kind === 'read') node.replica.readOnly(op.request);
      else node.replica.submit(op.request);
      this.pump(node);
    }
  }

  /** A client retransmits (OSDI §4.1); a read that cannot gather 2f+1 falls back to the ordered path. */
  private maybeRetry(op: Operation): void {
    const waited = this.now - op.lastSentAt;
    if (op.kind === 'read' && (op.quorum.hopeless(this.n) || waited > 20 * TICK)) {
      op.kind = 'ordered';
      op.quorum = new ReplyQuorum(this.f, this.f + 1);
      this.stats.readFallbacks++;
      return this.sendOperation(op);
    }
    if (waited < 60 * TICK) return;
    // The gateway may be down: the client goes elsewhere (same clientId and seq: exactly-once).
    const origin = op.request.origin;
    if (origin >= 0 && this.nodes[origin]?.replica === null) {
      op.request = { ...op.request, origin: this.someCorrectUp() };
      op.quorum = new ReplyQuorum(this.f, this.f + 1);
    }
    this.sendOperation(op);
  }

  private deliverOutputs(node: SimNode, rd: PbftReady): void {
    const correct = node.byzantine === null;
    for (const e of rd.executed) {
      if (correct) this.checker.observeResult(node.id, e.request, e.result);
      this.vote(e.request.clientId, e.request.seq, node.id, node.id, ReplyQuorum.resultKey(e.result), 'ordered');
    }
    for (const r of rd.replies) this.vote(r.clientId, r.seq, node.id, r.from, ReplyQuorum.resultKey(r.result), 'ordered');
    for (const r of rd.readReplies) {
      if (correct && r.from === node.id) this.checker.observeRead(node.id, r.clientId, r.seq, r.result);
      this.vote(r.clientId, r.seq, node.id, r.from, ReplyQuorum.resultKey(r.result), 'read');
    }
  }

  /** A reply reached replica `at` from replica `from`; it counts if `at` gathers for this client. */
  private vote(clientId: string, seq: number, at: number, from: number, key: string, kind: 'ordered' | 'read'): void {
    const client = this.clients.find((c) => c.id === clientId);
    const op = client?.op;
    if (client === undefined || op == null || op.request.seq !== seq || op.kind !== kind) return;
    const origin = op.request.origin;
    // A library client (origin -1) hears each replica directly; a gateway relays what it gathered.
    if (origin === -1 ? from !== at : origin !== at) return;
    const accepted = op.quorum.add(from, key);
    if (accepted === null) return;
    if (kind === 'read') {
      this.checker.checkAcceptedRead(clientId, seq, accepted);
      this.stats.acceptedReads++;
    } else {
      this.checker.checkAcceptedOrdered(clientId, seq, accepted);
      this.stats.acceptedWrites++;
    }
    client.op = null;
    client.completed++;
  }

  // ---------------------------------------------------------------- faults

  protected onFault(roll: number): void {
    if (roll < 0.45) this.crashSomeone();
    else if (roll < 0.8) this.partition();
    else this.heal();
  }

  private crashSomeone(): void {
    const up = this.nodes.filter((x) => x.replica !== null && x.byzantine === null);
    const victim = up[this.rng.int(up.length)];
    if (victim !== undefined) this.crash(victim);
  }

  /** Everything not yet persisted is lost, the Ready being persisted included. */
  protected crash(victim: SimNode): void {
    if (victim.replica === null) return;
    this.stateTransfers += victim.core?.status().stateTransfers ?? 0;
    victim.replica = null;
    victim.core = null;
    victim.epoch++;
    victim.persisting = null;
    this.stats.crashes++;
    this.trace(`${victim.id} crashes`);
    this.restartLater(victim, 60);
  }

  private partition(): void {
    const sides = this.partitionNetwork(this.net.randomSides(this.ids), this.ids, 80);
    this.stats.partitions++;
    this.trace(`partition ${this.ids.map((id) => sides.get(id)).join(' ')}`);
  }

  protected restart(node: SimNode): void {
    if (node.replica !== null) return;
    this.start(node);
    this.trace(`${node.id} restarts from ${node.disk.size} records`);
  }

  private start(node: SimNode): void {
    node.epoch++;
    const config = this.config(node.id);
    const core = PbftReplica.restore(config, this.ring.cryptoFor(node.id), this.rng.fork(), [...node.disk]);
    node.core = core;
    node.replica = node.byzantine === null ? core : new ByzantineReplica(core, node.byzantine, this.ring.cryptoFor(node.id), this.rng.fork());
    this.queue.push(this.now + this.rng.between(1, TICK), { kind: 'tick', node, epoch: node.epoch });
    this.pump(node);
  }

  private config(id: number): PbftConfig {
    const K = this.params.checkpointInterval;
    return {
      n: this.n,
      self: id,
      checkpointInterval: K,
      watermarkWindow: K * this.params.windowFactor,
      maxBatchRequests: this.params.maxBatchRequests,
      maxBatchBytes: 1024,
      requestTimeoutTicks: this.params.requestTimeoutTicks,
      authentication: this.params.authentication,
      maxTransferBytes: 64,
      maxCarriedBatchBytes: this.params.maxCarriedBatchBytes,
      maxBatchesInFlight: this.params.maxBatchesInFlight,
    };
  }

  // ---------------------------------------------------------------- liveness

  /** The final heal (the world's); then every idle client starts a write. */
  protected override endFaults(): void {
    super.endFaults();
    for (const c of this.clients) if (c.op === null) this.startOperation(c, true);
  }

  /** Every client's operation must complete. */
  private runUntilRecovered(): void {
    const target = new Map(this.clients.map((c) => [c.id, c.completed + 1]));
    this.runUntil(() => this.clients.every((c) => c.completed >= (target.get(c.id) ?? 0)), { ticks: LIVENESS_TICKS }, () => {
      const states = this.nodes.map((x) => {
        const s = x.core?.status();
        return s === undefined ? `${x.id}:down` : `${x.id}:v${s.view}${s.viewChanging ? '*' : ''}/e${s.lastExecuted}/h${s.lastStableCheckpoint}/w${s.pendingRequests}`;
      });
      const ops = this.clients.map((c) => (c.op === null ? `${c.id}:idle` : `${c.id}:${c.op.kind}#${c.op.request.seq}@${c.op.request.origin}/${c.op.quorum.voters}`));
      this.fail(`liveness: clients did not complete within ${LIVENESS_TICKS} ticks of the final heal (${states.join(' ')}; ${ops.join(' ')})`);
    });
  }

  /**
   * Every correct replica, not only the f+1 that answered the clients, must execute what was
   * executed when the clients finished, promptly: a replica behind by less than a checkpoint
   * interval fetches the committed batches it misses (TOCS §6.2) instead of waiting for the
   * next stable checkpoint, which an idle cluster may never reach.
   */
  private runUntilCaughtUp(): void {
    this.quiet = true;
    const started = this.now;
    const correct = this.nodes.filter((x) => x.byzantine === null);
    let target = 0;
    for (const x of correct) target = Math.max(target, x.core?.status().lastExecuted ?? 0);
    const changing = correct.filter((x) => x.core?.status().viewChanging === true);
    const timeouts = changing.map((x) => x.core?.status().viewChangeTimeoutTicks ?? 0);
    const allowance = catchUpAllowance(timeouts, correct[0]?.core?.status().f ?? 0);
    this.runUntil(() => correct.every((x) => (x.core?.status().lastExecuted ?? 0) >= target), { ticks: CATCH_UP_TICKS + allowance }, () => {
      const states = correct.map((x) => `${x.id}:e${x.core?.status().lastExecuted ?? 'down'}/v${x.core?.status().view ?? '-'}`);
      this.fail(`liveness: correct replicas did not all execute up to n=${target} within ${CATCH_UP_TICKS + allowance} ticks after the clients finished (${states.join(' ')})`);
    });
    this.catchUpTicks = this.ticksSince(started);
  }

  // ---------------------------------------------------------------- reporting

  private report(recoveryTicks: number): SimulationReport {
    let rejectedAuth = 0;
    for (const x of this.nodes) if (x.byzantine === null) rejectedAuth += x.core?.status().rejectedAuth ?? 0;
    const stateTransfers = this.stateTransfers + this.nodes.reduce((sum, x) => sum + (x.core?.status().stateTransfers ?? 0), 0);
    return {
      seed: this.seed,
      nodes: this.n,
      f: this.f,
      byzantine: this.byzantineList(),
      authentication: this.params.authentication,
      steps: this.steps,
      virtualTicks: this.ticksSince(0),
      executedBatches: this.checker.executions,
      checkpoints: this.checker.checkpoints,
      highestView: this.highestView,
      rejectedAuth,
      stateTransfers,
      recoveryTicks,
      catchUpTicks: this.catchUpTicks,
      ...this.stats,
    };
  }
}

function describe(m: PbftMessage): string {
  switch (m.type) {
    case 'PrePrepare':
      return `PrePrepare v=${m.view} n=${m.sequence} d=${m.digest.slice(0, 6)} reqs=${m.batch.length} i=${m.replica}`;
    case 'Prepare':
    case 'Commit':
      return `${m.type} v=${m.view} n=${m.sequence} d=${m.digest.slice(0, 6)} i=${m.replica}`;
    case 'Checkpoint':
      return `Checkpoint n=${m.sequence} d=${m.digest.slice(0, 6)} i=${m.replica}`;
    case 'ViewChange':
      return `ViewChange v=${m.view} h=${m.h} P=${m.prepared.length} Q=${m.prePrepared.length} i=${m.replica}`;
    case 'NewView':
      return `NewView v=${m.view} h=${m.h} O=${m.chosen.length} i=${m.replica}`;
    case 'Fetch':
      return `Fetch from=${m.from} i=${m.replica}`;
    case 'FetchReply':
      return `FetchReply n=${m.entries.map((e) => e.sequence).join(',')}${m.stable === null ? '' : ` stable=${m.stable.sequence}`} i=${m.replica}`;
    case 'FetchMeta':
      return `FetchMeta n=${m.sequence} nodes=${m.nodes.length} i=${m.replica}`;
    case 'Meta':
      return `Meta n=${m.sequence} nodes=${m.nodes.length} i=${m.replica}`;
    case 'FetchPartitions':
      return `FetchPartitions n=${m.sequence} parts=${m.parts.map((x) => `${x.partition}@${x.offset}`).join(',')} i=${m.replica}`;
    case 'PartitionChunk':
      return `PartitionChunk n=${m.sequence} p=${m.partition} items=${m.offset}/${m.total} i=${m.replica}`;
    default:
      return `${m.type} i=${m.replica}`;
  }
}
