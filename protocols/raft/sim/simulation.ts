/**
 * A seeded, deterministic simulation of a Raft cluster (in the spirit of TigerBeetle's simulator
 * and etcd-io/raft's interaction tests): Raft's adapter to the shared world of
 * protocols/common/sim/ (event loop, faulty network, crashes and restarts, disk latency, liveness
 * phase), and Raft's own checks. The world drives 3 or 5 RaftNodes exactly through the Ready
 * contract, over a network that drops, delays, reorders and duplicates messages and partitions
 * replicas, with replicas that crash (losing everything not yet persisted, the Ready being
 * persisted included) and restart from their simulated disk, and replicas that pause (SIGSTOP) for
 * several election timeouts. Each replica has its own clock, drifting at a bounded rate, and is
 * driven like the runtime drives it: before every input it is given the whole ticks its clock
 * counted since the last call (`tick(elapsed)`), so a pause arrives as one big tick. Clients
 * propose commands and request ReadIndex and lease reads throughout; leaders are asked to transfer
 * leadership. Replicas snapshot their state machine and compact their logs at random applied
 * points (Raft §7), so lagging and restarted replicas often catch up through InstallSnapshot, in
 * tiny chunks. After every event the SafetyChecker checks Raft's safety properties; at the end,
 * with faults over, the cluster must recover.
 *
 * Pure: no timers, no clock, no I/O. A seed fully determines a run.
 */
import { runGuarded, SimulationFailure } from '../../common/sim/sim-run.js';
import { invariant, InvariantError } from '../../common/invariant.js';
import type { Rng } from '../../common/rng.js';
import { randomPayload, samePayload } from '../../common/sim/payload.js';
import { decodeSimSnapshot, encodeSimSnapshot, joinChunks, splitChunks } from '../../common/sim/snapshot-bytes.js';
import { LeaderWorld } from '../../common/sim/leader-world.js';
import { TICK, type WorldEvent } from '../../common/sim/world.js';
import { RaftNode } from '../raft-node.js';
import { applyToHash, SafetyChecker } from './sim-checker.js';
import type { MembershipChange } from '../membership.js';
import type { HardState, LogEntry, NodeId, RaftConfig, RaftMessage, Ready, Snapshot } from '../types.js';

/** Thrown with the seed and the command replaying the run (protocols/common/sim/sim-run.ts). */
export { SimulationFailure };

export interface SimulationOptions {
  seed: number;
  /** Replicas; by default 3 for even seeds and 5 for odd ones. */
  nodes?: number;
  /** Events processed while faults are injected; then the cluster is healed and must recover. */
  steps?: number;
  /** Receives a line per notable event (crash, partition, election, ...). */
  log?: (line: string) => void;
  /** Also log every delivered message (very verbose). */
  logMessages?: boolean;
}

export interface SimulationReport {
  seed: number;
  nodes: number;
  steps: number;
  virtualTicks: number;
  /** Terms that had a leader. */
  leaderTerms: number;
  committed: number;
  acknowledged: number;
  readsServed: number;
  readsFailed: number;
  crashes: number;
  partitions: number;
  pauses: number;
  transfers: number;
  /** Membership changes a leader accepted (dissertation ch. 4). */
  membershipChanges: number;
  /** Lease reads requested (served from the lease or by their ReadIndex fallback). */
  leaseReads: number;
  messagesSent: number;
  messagesDropped: number;
  /** Snapshots taken by replicas (log compactions, Raft §7). */
  compactions: number;
  /** Snapshots installed from a leader (InstallSnapshot, Raft §7). */
  snapshotsInstalled: number;
  /** Ticks from the final heal until every replica applied a command proposed after it. */
  recoveryTicks: number;
}

export const DEFAULT_STEPS = 5000;
/** Ticks the cluster gets to recover once faults stop (the election timeout is 10 ticks). */
const LIVENESS_TICKS = 600;
const ELECTION_TIMEOUT = 10;

export function defaultNodes(seed: number): number {
  return seed % 2 === 0 ? 3 : 5;
}

/** The command that replays a run. */
export function replayCommand(options: SimulationOptions): string {
  let command = `npm run sim:raft -- --seed ${options.seed}`;
  if (options.nodes !== undefined && options.nodes !== defaultNodes(options.seed)) command += ` --nodes ${options.nodes}`;
  if (options.steps !== undefined && options.steps !== DEFAULT_STEPS) command += ` --steps ${options.steps}`;
  return command;
}

/** Runs one seeded simulation; throws SimulationFailure (with the replay command) on a violation. */
export function simulate(options: SimulationOptions): SimulationReport {
  return runGuarded('raft', options.seed, replayCommand(options), () => new Simulation(options).run());
}

/** The knobs a seed draws: protocol features and how hostile the environment is. */
interface Params {
  preVote: boolean;
  checkQuorum: boolean;
  heartbeatIntervalTicks: number;
  maxAppendBytes: number;
  maxInflightAppends: number;
  dropRate: number;
  duplicateRate: number;
  slowRate: number;
  persistMax: number;
  faultGap: number;
  clientGap: number;
  /** Chance that a replica crashes while persisting a given Ready (the riskiest moment). */
  crashWhilePersistingRate: number;
  /** Lease reads (effective with check-quorum only). */
  leaseReads: boolean;
  /** Each replica's clock runs at a rate in [1 - clockDrift, 1 + clockDrift] of true time. */
  clockDrift: number;
  /** The smallest leaseDriftTicks that is safe for clockDrift (README, Deviations, "Lease reads"). */
  leaseDriftTicks: number;
  /** Chance that a replica takes a snapshot and compacts its log after a Ready (Raft §7). */
  compactRate: number;
  /** Entries a replica keeps after its snapshot point at most (0: compact up to the applied index). */
  compactLag: number;
  /** The size of the chunks the simulated runtime stores snapshots in, often tiny so transfers take many. */
  maxSnapshotChunkBytes: number;
  /**
   * Membership changes (dissertation ch. 4): two spare servers beyond the bootstrap voters, and
   * faults that add learners, promote them and remove members (the leader included).
   */
  membershipChanges: boolean;
}

/**
 * Lease arithmetic (README, Deviations, "Lease reads"): a follower's clock, up to 1 + rho fast,
 * counts one tick too many at most, so it disregards votes for (T - 1) / (1 + rho) true ticks
 * after a heartbeat arrives; a leader's clock, up to 1 - rho slow, serves for
 * (T - drift) / (1 - rho) true ticks after sending it. drift = T - (T - 1)(1 - rho)/(1 + rho)
 * is the least that keeps the second within the first.
 */
export function minimalLeaseDrift(electionTimeoutTicks: number, rho: number): number {
  const exact = electionTimeoutTicks - ((electionTimeoutTicks - 1) * (1 - rho)) / (1 + rho);
  return Math.max(1, Math.ceil(exact - 1e-9));
}

function drawParams(rng: Rng): Params {
  const pick = <T>(values: readonly T[]): T => values[rng.int(values.length)] as T;
  const clockDrift = pick([0, 0.02, 0.05, 0.2]);
  return {
    preVote: rng.chance(0.75),
    checkQuorum: rng.chance(0.6),
    heartbeatIntervalTicks: pick([1, 2, 3]),
    maxAppendBytes: pick([256, 1024, 1 << 16]),
    maxInflightAppends: pick([1, 2, 4, 16]),
    dropRate: pick([0, 0.02, 0.1, 0.25]),
    duplicateRate: pick([0, 0.03, 0.15]),
    slowRate: pick([0, 0.05, 0.2]),
    persistMax: pick([2, 8, 20]),
    faultGap: pick([60, 200, 600]),
    clientGap: pick([5, 20, 60]),
    crashWhilePersistingRate: pick([0, 0.002, 0.01]),
    leaseReads: rng.chance(0.8),
    clockDrift,
    // The least safe bound, exactly: a lease one tick longer than the analysis allows fails.
    leaseDriftTicks: minimalLeaseDrift(ELECTION_TIMEOUT, clockDrift),
    compactRate: pick([0, 0.01, 0.05, 0.2]),
    compactLag: pick([0, 3, 20]),
    maxSnapshotChunkBytes: pick([4, 16, 64, 1 << 20]),
    membershipChanges: rng.chance(0.5),
  };
}

interface Disk {
  hardState: HardState;
  /** Contiguous; starts after 1 once compacted. */
  entries: LogEntry[];
  /** The stored snapshot (Raft §7): the state machine after `index`. */
  snapshot: Snapshot | null;
  /** Chunks of the stored snapshot and of one being received, by snapshot index. */
  chunks: Map<number, Uint8Array[]>;
}

interface Proposal {
  term: number;
  data: Uint8Array;
}

interface SimNode {
  id: NodeId;
  raft: RaftNode | null;
  /** Bumped on crash: events of an earlier life are ignored. */
  epoch: number;
  disk: Disk;
  /** The Ready being persisted. */
  persisting: Ready | null;
  applied: number;
  stateHash: number;
  /** stateHash after each applied index of this life (from the snapshot it started from on). */
  hashAt: Map<number, number>;
  observedCommit: number;
  leaderTerm: number;
  proposals: Map<number, Proposal>;
  /** ctx -> highest acknowledged index when the read was issued. */
  reads: Map<number, number>;
  /** ctx -> true time at which the core got the read request. */
  readsRequestedAt: Map<number, number>;
  /** Clock rate against true time (bounded drift). */
  rate: number;
  /** True time at which the current life started, and the local time already given as ticks. */
  bootAt: number;
  accounted: number;
  /** Paused (SIGSTOP) until this true time: every event for it waits until then. */
  pausedUntil: number;
  /** The configuration it boots with when its log has none (its "cluster file", §4.1). */
  bootstrapVoters: NodeId[];
  /**
   * Shut down for good: a spare never added, or a member whose removal committed (an operator
   * stops it, dissertation §4.2.2). It comes back only if it is added again, with a wiped disk.
   */
  retired: boolean;
  /** Removals this replica proposed as leader, by log index: the operator waits for them. */
  removals: Map<number, { term: number; id: NodeId }>;
}

type ClientOp = { kind: 'propose'; burst: number } | { kind: 'read'; ctx: number; lease: boolean };

/** Raft's own events (the world's are in protocols/common/sim/world.ts). */
type RaftEvent =
  | { kind: 'tick'; node: SimNode; epoch: number }
  | { kind: 'deliver'; message: RaftMessage }
  /** The operator shuts down a server whose removal it saw committed. */
  | { kind: 'retire'; id: NodeId }
  /** A client that still believes `node` leads reads from it (aimed at cut-off leaders). */
  | { kind: 'staleRead'; node: SimNode; epoch: number }
  /** A client request that reached a paused replica: handled when it resumes. */
  | { kind: 'op'; node: SimNode; epoch: number; op: ClientOp };

type SimEvent = RaftEvent | WorldEvent<SimNode>;

class Simulation extends LeaderWorld<SimNode, RaftEvent, Params, NodeId> {
  /** Every server, the spares that membership changes add included. */
  protected readonly ids: NodeId[];
  /** The bootstrap configuration's size. */
  private readonly size: number;
  protected readonly nodes: SimNode[];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly checker: SafetyChecker;
  private payloadSeq = 0;
  private readSeq = 0;
  /** Payloads of the markers proposed after the final heal (compared by bytes: logs copy them). */
  private readonly markers: Uint8Array[] = [];
  /** Term -> true time its leader was first seen. */
  private readonly electedAt = new Map<number, number>();
  private markerTerm = -1;
  private markerIndex = 0;
  private readonly stats = {
    acknowledged: 0,
    readsServed: 0,
    readsFailed: 0,
    crashes: 0,
    partitions: 0,
    pauses: 0,
    transfers: 0,
    membershipChanges: 0,
    leaseReads: 0,
    messagesSent: 0,
    messagesDropped: 0,
    compactions: 0,
    snapshotsInstalled: 0,
  };

  constructor(options: SimulationOptions) {
    const { seed, log, logMessages } = options;
    super({ protocol: 'raft', seed, steps: options.steps ?? DEFAULT_STEPS, replay: replayCommand(options), log, logMessages }, drawParams);
    this.checker = new SafetyChecker((reason) => this.fail(reason));
    const count = options.nodes ?? defaultNodes(options.seed);
    invariant(count >= 1 && count <= 7, 'nodes must be 1..7');
    this.size = count;
    const spares = this.params.membershipChanges ? 2 : 0;
    this.ids = Array.from({ length: count + spares }, (_, k) => `n${k + 1}`);
    const bootstrap = this.ids.slice(0, count);
    this.nodes = this.ids.map((id) => this.newNode(id, bootstrap));
    for (const node of this.nodes) this.byId.set(node.id, node);
    for (const node of this.nodes) node.retired = !bootstrap.includes(node.id); // spares wait to be added
  }

  run(): SimulationReport {
    this.trace(`params ${JSON.stringify(this.params)}`);
    for (const node of this.nodes) if (!node.retired) this.start(node);
    this.runFaultPhase();
    const healedAt = this.now;
    this.endFaults();
    this.runUntilRecovered();
    this.finalChecks();
    return this.report(this.ticksSince(healedAt));
  }

  // ---------------------------------------------------------------- event loop

  /** Pauses first: a stopped process handles nothing, whatever the event (then the world's). */
  protected override handle(event: SimEvent): void {
    const node = eventNode(event, this.byId);
    if (node !== undefined && node.pausedUntil > this.now && node.raft !== null) {
      // A stopped process handles nothing; its inputs wait, and come back in a random order.
      this.queue.push(node.pausedUntil + this.rng.int(TICK), event);
      return;
    }
    super.handle(event);
  }

  protected handleOwn(event: RaftEvent): void {
    switch (event.kind) {
      case 'tick':
        return this.onTick(event.node, event.epoch);
      case 'deliver':
        return this.onDeliver(event.message);
      case 'retire':
        return this.retire(event.id);
      case 'op':
        if (event.node.epoch === event.epoch) this.runOp(event.node, event.op);
        return;
      case 'staleRead':
        if (event.node.epoch === event.epoch && event.node.raft?.role === 'leader') this.read(event.node, this.rng.chance(0.8));
        return;
      default: {
        const unknown: never = event;
        return unknown;
      }
    }
  }

  /** The runtime's setInterval: roughly every tick, sometimes late (a busy event loop). */
  private onTick(node: SimNode, epoch: number): void {
    if (node.raft === null || node.epoch !== epoch) return;
    this.catchUp(node);
    this.pump(node);
    const late = this.rng.chance(0.05) ? this.rng.between(TICK, 3 * TICK) : 0;
    this.queue.push(this.now + this.rng.between(TICK - 3, TICK + 3) + late, { kind: 'tick', node, epoch });
  }

  /**
   * The runtime contract for time: before any input, give the core every whole tick the replica's
   * own clock counted since the last call (the remainder carries over).
   */
  private catchUp(node: SimNode): void {
    if (node.raft === null) return;
    const local = (this.now - node.bootAt) * node.rate;
    const elapsed = Math.floor((local - node.accounted) / TICK);
    if (elapsed <= 0) return;
    node.accounted += elapsed * TICK;
    node.raft.tick(elapsed);
  }

  private onDeliver(m: RaftMessage): void {
    const node = this.byId.get(m.to);
    if (node?.raft == null || !this.net.linked(m.from, m.to)) return;
    if (this.logMessages) this.trace(`deliver ${describeMessage(m)}`);
    this.catchUp(node);
    node.raft?.step(m);
    this.pump(node);
  }

  /** Runtime step 1: take a Ready, send its messages at once, start persisting it. */
  private pump(node: SimNode): void {
    const raft = node.raft;
    if (raft === null || node.persisting !== null || !raft.hasReady()) return;
    const rd = raft.ready();
    node.persisting = rd;
    if (this.logMessages) this.trace(`${node.id} ready ${describeReady(rd)}`);
    this.checkSentBeforePersist(node, rd);
    for (const m of rd.messages) {
      const out = m.type === 'InstallSnapshot' ? withChunk(m, node.disk) : m;
      if (out !== null) this.send(out);
    }
    // Disks are fast next to an election timeout (10 ticks), with an occasional stall. A Ready
    // that records a vote is where a lost write does the most harm: target it.
    const before = node.disk.hardState;
    const hard = rd.hardState;
    const votes = hard !== null && hard.votedFor !== null && (hard.votedFor !== before.votedFor || hard.currentTerm !== before.currentTerm);
    this.persistLater(node, votes ? 10 : 1);
  }

  /**
   * The Ready contract: what goes out before the persist claims no term beyond the durable one
   * (a pre-vote names the term it would campaign in, and changes nothing). A message of a term
   * the sender could forget in a crash lets it act twice in that term.
   */
  private checkSentBeforePersist(node: SimNode, rd: Ready): void {
    const durable = node.disk.hardState.currentTerm;
    for (const m of rd.messages) {
      const preVote = (m.type === 'RequestVote' || m.type === 'RequestVoteResponse') && m.preVote;
      if (!preVote && m.term > durable) this.fail(`${node.id} sends ${m.type} of term ${m.term} before persisting it (durable term ${durable})`);
    }
  }

  /** Runtime steps 2-5: the batch is durable; send what waited for it, apply, answer, advance. */
  protected onPersisted(node: SimNode, epoch: number): void {
    const rd = node.persisting;
    if (node.raft === null || node.epoch !== epoch || rd === null) return;
    if (!this.writeDisk(node, rd)) {
      this.trace(`${node.id} crashes after saving snapshot ${rd.snapshot?.index}, before its log batch`);
      return this.crash(node);
    }
    for (const m of rd.messagesAfterPersist) this.send(m);
    if (rd.snapshot !== null) this.installSnapshot(node, rd.snapshot);
    for (const entry of rd.committed) this.apply(node, entry);
    for (const rs of rd.readStates) this.serveRead(node, rs.ctx, rs.index);
    for (const ctx of rd.readsFailed) this.failRead(node, ctx);
    node.persisting = null;
    node.raft.advance(rd);
    if (this.faulty && this.rng.chance(this.params.compactRate)) this.compact(node);
    this.pump(node);
  }

  /**
   * Raft §7, as the runtime does it: snapshot the state machine at an applied index (at random,
   * up to compactLag entries behind the applied index), save it durably, then tell the core,
   * whose next Ready deletes the covered entries on disk (a crash may come in between).
   */
  private compact(node: SimNode): void {
    const raft = node.raft;
    if (raft === null || node.applied <= raft.snapshotIndex) return;
    const lowest = Math.max(raft.snapshotIndex + 1, node.applied - this.params.compactLag);
    const index = this.rng.between(lowest, node.applied);
    const hash = node.hashAt.get(index);
    const term = raft.entryAt(index)?.term;
    if (hash === undefined || term === undefined) return this.fail(`${node.id} cannot snapshot applied index ${index}`);
    const chunks = splitChunks(encodeSimSnapshot(index, hash), this.params.maxSnapshotChunkBytes);
    this.checker.observeSnapshot(node.id, index, term, hash);
    node.disk.chunks.set(index, chunks);
    this.storeSnapshot(node.disk, { index, term, chunks: chunks.length, membership: raft.membershipAt(index) });
    if (!raft.compact(index, chunks.length)) this.fail(`${node.id}: compact(${index}) refused after snapshot ${raft.snapshotIndex}`);
    for (const old of node.hashAt.keys()) if (old < index) node.hashAt.delete(old);
    this.stats.compactions++;
    this.trace(`${node.id} snapshots at ${index}@${term} (applied ${node.applied})`);
  }

  /** The stored snapshot is replaced; the chunks of older ones go. */
  private storeSnapshot(disk: Disk, snapshot: Snapshot): void {
    disk.snapshot = snapshot;
    for (const index of disk.chunks.keys()) if (index < snapshot.index) disk.chunks.delete(index);
  }

  /** Ready.snapshot: the state machine is reset from the installed snapshot (Figure 13 rule 8). */
  private installSnapshot(node: SimNode, snapshot: Snapshot): void {
    const { point: index, hash } = decodeSimSnapshot(storedBytes(node.disk, snapshot));
    if (index !== snapshot.index) this.fail(`${node.id} installed snapshot ${snapshot.index} holding state ${index}`);
    if (index <= node.applied) this.fail(`${node.id} installed snapshot ${index} at applied index ${node.applied}`);
    this.checker.observeSnapshot(node.id, index, snapshot.term, hash);
    node.applied = index;
    node.stateHash = hash;
    node.hashAt.clear();
    node.hashAt.set(index, hash);
    this.stats.snapshotsInstalled++;
    this.trace(`${node.id} installs snapshot ${index}@${snapshot.term}`);
  }

  /** Persists a Ready; false if the replica crashed between the snapshot and the log batch. */
  private writeDisk(node: SimNode, rd: Ready): boolean {
    const disk = node.disk;
    for (const c of rd.snapshotChunks) {
      const chunks = disk.chunks.get(c.index) ?? [];
      chunks[c.chunk] = c.data;
      disk.chunks.set(c.index, chunks);
    }
    if (rd.snapshot !== null) {
      this.storeSnapshot(disk, rd.snapshot);
      // With a separate snapshot file, this is where a crash splits the two writes: the log
      // batch below would be lost and the core restarts from the snapshot and the old log.
      if (this.faulty && this.rng.chance(this.params.crashWhilePersistingRate * 20)) return false;
    }
    if (rd.hardState !== null) disk.hardState = { ...rd.hardState };
    const compactTo = rd.compactTo;
    if (compactTo !== null) {
      invariant(disk.snapshot !== null && disk.snapshot.index >= compactTo, `compactTo ${compactTo} beyond the stored snapshot`);
      const drop = disk.entries.findIndex((entry) => entry.index > compactTo);
      disk.entries.splice(0, drop < 0 ? disk.entries.length : drop);
    }
    if (rd.truncateFrom !== null) {
      invariant(rd.truncateFrom >= 1, 'truncateFrom must be >= 1');
      const first = disk.entries[0]?.index ?? 1;
      disk.entries.length = Math.max(0, Math.min(disk.entries.length, rd.truncateFrom - first));
    }
    const snapshotIndex = disk.snapshot?.index ?? 0;
    const last = disk.entries[disk.entries.length - 1]?.index ?? snapshotIndex;
    const firstNew = rd.entries[0]?.index;
    if (firstNew !== undefined && firstNew !== last + 1) {
      this.fail(`${node.id} appends ${firstNew} to a disk log ending at ${last} (snapshot ${snapshotIndex})`);
    }
    const from = disk.entries.length;
    for (const entry of rd.entries) disk.entries.push(entry);
    // After an installed snapshot, the entries kept after it must follow it (Figure 13 rules 6-7).
    const fromIndex = rd.snapshot !== null ? rd.snapshot.index + 1 : (disk.entries[0]?.index ?? 1) + from;
    this.checker.observePersisted(node.id, disk.entries, fromIndex, disk.snapshot);
    const commit = disk.hardState.commitIndex;
    const diskLast = Math.max(disk.entries[disk.entries.length - 1]?.index ?? 0, snapshotIndex);
    if (commit > diskLast) this.fail(`${node.id} persisted commitIndex ${commit} beyond its disk log`);
    return true;
  }

  private apply(node: SimNode, entry: LogEntry): void {
    if (entry.index !== node.applied + 1) this.fail(`${node.id} applied ${entry.index} after ${node.applied}`);
    node.applied = entry.index;
    node.stateHash = applyToHash(node.stateHash, entry);
    node.hashAt.set(entry.index, node.stateHash);
    this.checker.observeApplied(node.id, entry, node.stateHash);
    const removal = node.removals.get(entry.index);
    if (removal !== undefined) {
      node.removals.delete(entry.index);
      if (removal.term === entry.term) this.queue.push(this.now + 1, { kind: 'retire', id: removal.id });
    }
    const proposal = node.proposals.get(entry.index);
    if (proposal === undefined) return;
    node.proposals.delete(entry.index);
    if (proposal.term === entry.term && samePayload(proposal.data, entry.data)) {
      this.checker.acknowledge(entry.index); // the client hears "committed"
      this.stats.acknowledged++;
    }
  }

  // ---------------------------------------------------------------- network

  private send(m: RaftMessage): void {
    this.stats.messagesSent++;
    if (!this.transmit(m.from, m.to, { kind: 'deliver', message: m })) this.stats.messagesDropped++;
  }

  // ---------------------------------------------------------------- clients

  protected onClient(): void {
    const node = this.pickClientTarget();
    if (node?.raft == null) return;
    let op: ClientOp;
    if (this.faulty && this.rng.chance(0.7)) {
      op = { kind: 'propose', burst: this.rng.between(1, 4) };
    } else {
      return this.read(node, this.rng.chance(0.5));
    }
    this.request(node, op);
  }

  private read(node: SimNode, lease: boolean): void {
    const ctx = ++this.readSeq;
    // The read is issued now: it must see every write acknowledged before now (even if the
    // replica is paused and answers it later).
    node.reads.set(ctx, this.checker.highestAcked);
    this.request(node, { kind: 'read', ctx, lease });
  }

  private request(node: SimNode, op: ClientOp): void {
    if (node.pausedUntil > this.now) this.queue.push(node.pausedUntil + this.rng.int(TICK), { kind: 'op', node, epoch: node.epoch, op });
    else this.runOp(node, op);
  }

  private runOp(node: SimNode, op: ClientOp): void {
    const raft = node.raft;
    if (raft === null) return;
    this.catchUp(node);
    if (op.kind === 'propose') {
      for (let k = 0; k < op.burst; k++) this.propose(node, this.payload());
    } else {
      node.readsRequestedAt.set(op.ctx, this.now);
      if (op.lease) {
        this.stats.leaseReads++;
        raft.leaseRead(op.ctx);
      } else {
        raft.readIndex(op.ctx);
      }
    }
    this.pump(node);
  }

  protected isUp(node: SimNode): boolean {
    return node.raft !== null;
  }

  protected isLeader(node: SimNode): boolean {
    return node.raft?.role === 'leader';
  }

  /** The leader of the highest term. */
  protected currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes) {
      if (node.raft?.role !== 'leader') continue;
      if (best === undefined || node.raft.term > (best.raft?.term ?? 0)) best = node;
    }
    return best;
  }

  private propose(node: SimNode, data: Uint8Array): number {
    const raft = node.raft;
    if (raft === null) return 0;
    this.catchUp(node);
    const result = raft.propose(data);
    if (!result.ok) return 0;
    node.proposals.set(result.index, { term: result.term, data });
    return result.index;
  }

  /** A unique payload, sometimes large enough to split batches. */
  private payload(): Uint8Array {
    return randomPayload(this.rng, ++this.payloadSeq);
  }

  private serveRead(node: SimNode, ctx: number, index: number): void {
    const ackedAtRequest = node.reads.get(ctx);
    if (ackedAtRequest === undefined) this.fail(`${node.id} released read ${ctx} it was never asked`);
    node.reads.delete(ctx);
    this.checker.checkRead(node.id, ctx, index, ackedAtRequest, node.raft?.commitIndex ?? 0);
    // Stronger than linearizability, and what ReadIndex and leases both promise: when the leader
    // took the request, no leader of a later term had been elected yet (dissertation §6.4, §6.4.1).
    const requestedAt = node.readsRequestedAt.get(ctx) ?? this.now;
    node.readsRequestedAt.delete(ctx);
    const term = node.raft?.term ?? 0;
    for (const [later, at] of this.electedAt) {
      if (later > term && at < requestedAt) {
        this.fail(`read ${ctx} served by ${node.id} (term ${term}), requested at t=${requestedAt / TICK} after a leader of term ${later} was elected at t=${at / TICK}`);
      }
    }
    this.stats.readsServed++;
  }

  private failRead(node: SimNode, ctx: number): void {
    node.readsRequestedAt.delete(ctx);
    if (!node.reads.delete(ctx)) this.fail(`${node.id} failed read ${ctx} it was never asked`);
    this.stats.readsFailed++;
  }

  // ---------------------------------------------------------------- faults

  protected onFault(roll: number): void {
    if (roll < 0.3) this.crashSomeone();
    else if (roll < 0.55) this.partition();
    else if (roll < 0.65) this.pauseSomeone();
    else if (roll < 0.77) this.transferLeadership();
    else if (roll < 0.92 && this.params.membershipChanges) this.changeMembership();
    else this.heal();
  }

  /**
   * Dissertation ch. 4, as an operator would: at the leader (perhaps a stale one), add a spare as a
   * learner, promote a learner, or remove a member, the leader included. A removed server is shut
   * down once the leader that proposed its removal has applied it (the operator got the answer).
   */
  private changeMembership(): void {
    const leader = this.rng.chance(0.85) ? this.currentLeader() : this.someLeader();
    const raft = leader?.raft;
    if (leader === undefined || raft == null || leader.pausedUntil > this.now) return;
    this.catchUp(leader);
    const { voters, learners } = raft.membership;
    const outside = this.nodes.filter((n) => !voters.includes(n.id) && !learners.includes(n.id) && n.retired);
    const roll = this.rng.next();
    let change: MembershipChange;
    if (learners.length > 0 && roll < 0.5) change = { type: 'promote', id: learners[this.rng.int(learners.length)] as NodeId };
    else if (outside.length > 0 && roll < 0.8) change = { type: 'add-learner', id: (outside[this.rng.int(outside.length)] as SimNode).id, address: '' };
    else {
      const members = [...voters, ...learners];
      change = { type: 'remove', id: members[this.rng.int(members.length)] as NodeId };
    }
    const result = raft.proposeMembership(change);
    this.trace(`${leader.id} membership ${JSON.stringify(change)}: ${result.ok ? `ok at ${result.index}` : result.reason}`);
    if (result.ok) {
      this.stats.membershipChanges++;
      if (change.type === 'add-learner') this.unretire(this.byId.get(change.id) as SimNode, voters);
      if (change.type === 'remove') leader.removals.set(result.index, { term: raft.term, id: change.id });
    }
    this.pump(leader);
  }

  private retire(id: NodeId): void {
    const node = this.byId.get(id) as SimNode;
    if (node.retired) return;
    this.crash(node, false);
    node.retired = true;
    this.trace(`${node.id} is shut down: its removal committed`);
  }

  /**
   * The operator starts the server it adds: a spare with an empty disk, told the voters as they
   * are now (its cluster file); a server removed earlier comes back with its disk as it left it.
   * A wiped disk under a reused id would be outside Raft's model: a stale replica that still
   * counts it as a voter could get the vote it already gave in some term a second time.
   */
  private unretire(node: SimNode, voters: readonly NodeId[]): void {
    if (!node.retired) return;
    node.retired = false;
    if (node.epoch === 0) node.bootstrapVoters = [...voters];
    this.restart(node);
  }

  /** SIGSTOP for up to six election timeouts; leaders are the interesting victims. */
  private pauseSomeone(): void {
    const victim = this.rng.chance(0.7) ? this.someLeader() : this.someUpNode();
    if (victim?.raft == null || victim.pausedUntil > this.now) return;
    // Often one to two election timeouts: long enough for a new election, short enough that
    // check-quorum, counting the missed periods, may not yet depose the paused leader.
    const long = this.rng.chance(0.5) ? this.rng.between(ELECTION_TIMEOUT * TICK, 2 * ELECTION_TIMEOUT * TICK) : this.rng.between(2 * TICK, 60 * TICK);
    victim.pausedUntil = this.now + long;
    this.stats.pauses++;
    this.trace(`${victim.id} pauses until t=${(victim.pausedUntil / TICK).toFixed(1)}`);
  }

  /** An admin asks a leader (perhaps a stale one) to hand over, to a named replica or to any. */
  private transferLeadership(): void {
    const leader = this.rng.chance(0.8) ? this.currentLeader() : this.someLeader();
    const raft = leader?.raft;
    if (leader === undefined || raft == null || leader.pausedUntil > this.now) return;
    this.catchUp(leader);
    const target = this.rng.chance(0.3) ? null : (this.ids[this.rng.int(this.ids.length)] as NodeId);
    const result = raft.transferLeadership(target);
    if (result.ok) this.stats.transfers++;
    this.trace(`${leader.id} transfers leadership to ${target ?? 'any'}: ${JSON.stringify(result)}`);
    this.pump(leader);
  }

  protected crash(victim: SimNode, restart = true): void {
    if (victim.raft === null) return;
    victim.raft = null; // everything not persisted is gone, the Ready being persisted included
    victim.epoch++;
    victim.pausedUntil = 0;
    victim.persisting = null;
    victim.proposals.clear();
    victim.removals.clear();
    victim.reads.clear();
    victim.readsRequestedAt.clear();
    this.stats.crashes++;
    this.trace(`${victim.id} crashes`);
    if (restart) this.restartLater(victim, 40);
  }

  /** A random split, or a leader cut off (leader-world.ts) whose clients keep reading from it. */
  private partition(): void {
    const sides = this.partitionAroundLeader((leader) => {
      // Its clients keep reading from it around when its lease ends and the others elect.
      for (let k = this.rng.between(0, 8); k > 0; k--) {
        this.queue.push(this.now + this.rng.between(6 * TICK, 25 * TICK), { kind: 'staleRead', node: leader, epoch: leader.epoch });
      }
    });
    this.stats.partitions++;
    this.trace(`partition ${this.ids.map((id) => `${id}:${sides.get(id)}`).join(' ')}`);
  }

  protected restart(node: SimNode): void {
    if (node.raft !== null || node.retired) return;
    this.start(node);
    const snapshot = node.disk.snapshot === null ? 'no snapshot' : `snapshot ${node.disk.snapshot.index}`;
    this.trace(`${node.id} restarts at term ${node.disk.hardState.currentTerm} with ${snapshot} and ${node.disk.entries.length} entries`);
  }

  /**
   * Boots a replica from its disk: its state machine (volatile) from the stored snapshot, if any,
   * then re-applying the log after it.
   */
  private start(node: SimNode): void {
    node.epoch++;
    node.applied = 0;
    node.stateHash = 0;
    node.hashAt = new Map([[0, 0]]);
    const snapshot = node.disk.snapshot;
    if (snapshot !== null) {
      const { point: index, hash } = decodeSimSnapshot(storedBytes(node.disk, snapshot));
      if (index !== snapshot.index) this.fail(`${node.id}: stored snapshot ${snapshot.index} holds state ${index}`);
      this.checker.observeSnapshot(node.id, index, snapshot.term, hash);
      node.applied = index;
      node.stateHash = hash;
      node.hashAt = new Map([[index, hash]]);
    }
    node.leaderTerm = 0;
    node.bootAt = this.now;
    node.accounted = 0;
    node.pausedUntil = 0;
    const restored = { hardState: { ...node.disk.hardState }, entries: node.disk.entries.slice(), snapshot };
    node.raft = new RaftNode({ ...this.config(node.id), incarnation: node.epoch }, this.rng.fork(), restored);
    node.observedCommit = 0;
    this.queue.push(this.now + this.rng.between(1, TICK), { kind: 'tick', node, epoch: node.epoch });
    this.pump(node);
  }

  private config(id: NodeId): RaftConfig {
    return {
      id,
      voters: (this.byId.get(id) as SimNode).bootstrapVoters,
      electionTimeoutTicks: ELECTION_TIMEOUT,
      heartbeatIntervalTicks: this.params.heartbeatIntervalTicks,
      preVote: this.params.preVote,
      checkQuorum: this.params.checkQuorum,
      maxAppendBytes: this.params.maxAppendBytes,
      maxInflightAppends: this.params.maxInflightAppends,
      // Flow control (uncommitted.ts): a few full pipelines, so that a leader that cannot commit
      // stops taking proposals long before its tail would take the healed cluster ages to replicate.
      maxUncommittedBytes: 4 * this.params.maxAppendBytes * this.params.maxInflightAppends,
      leaseReads: this.params.leaseReads,
      leaseDriftTicks: this.params.leaseDriftTicks,
    };
  }

  private newNode(id: NodeId, bootstrapVoters: NodeId[]): SimNode {
    return {
      id,
      raft: null,
      epoch: 0,
      disk: { hardState: { currentTerm: 0, votedFor: null, commitIndex: 0 }, entries: [], snapshot: null, chunks: new Map() },
      persisting: null,
      applied: 0,
      stateHash: 0,
      hashAt: new Map(),
      observedCommit: 0,
      leaderTerm: 0,
      proposals: new Map(),
      reads: new Map(),
      readsRequestedAt: new Map(),
      // Often at the extremes: a slow leader and fast followers are the lease's worst case.
      rate: 1 + (this.rng.chance(0.5) ? (this.rng.chance(0.5) ? 1 : -1) : 2 * this.rng.next() - 1) * this.params.clockDrift,
      bootAt: 0,
      accounted: 0,
      pausedUntil: 0,
      bootstrapVoters,
      retired: false,
      removals: new Map(),
    };
  }

  // ---------------------------------------------------------------- checks

  protected override afterStep(): void {
    for (const node of this.nodes) {
      const raft = node.raft;
      if (raft === null) continue;
      if (raft.role === 'leader') this.observeLeader(node, raft);
      this.observeCommits(node, raft);
    }
  }

  private observeLeader(node: SimNode, raft: RaftNode): void {
    // Election safety counts a leadership once its term and self-vote are on disk: before that
    // nothing of the term has left the replica (the Ready contract holds its messages back), and
    // a crash erases it without a trace, so after the restart the replica may vote in that term
    // again (seed 808027784: a lone voter won term 20, crashed before the persist, and then voted
    // for the peer that became leader of term 20).
    const hard = node.disk.hardState;
    if (hard.currentTerm === raft.term && hard.votedFor === node.id) this.checker.observeLeader(node.id, raft.term);
    if (node.leaderTerm === raft.term) return;
    node.leaderTerm = raft.term;
    if (!this.electedAt.has(raft.term)) this.electedAt.set(raft.term, this.now);
    this.trace(`${node.id} is leader of term ${raft.term}`);
    this.checker.checkLeaderHas(node.id, raft.term, this.entryAt(raft));
  }

  /**
   * A replica's log, as the checker reads it: up to its snapshot, the committed entries (its
   * snapshot was checked to be the state after them: observeSnapshot).
   */
  private entryAt(raft: RaftNode): (index: number) => LogEntry | undefined {
    return (index) => (index <= raft.snapshotIndex ? this.checker.committedEntry(index) : raft.entryAt(index));
  }

  /** Records what a replica's commitIndex newly covers; current leaders must hold it too. */
  private observeCommits(node: SimNode, raft: RaftNode): void {
    const commit = raft.commitIndex;
    if (commit <= node.observedCommit) return;
    const before = this.checker.committedCount;
    for (let index = node.observedCommit + 1; index <= commit; index++) {
      if (index <= raft.snapshotIndex) {
        // Covered by an installed snapshot, which observeSnapshot checked against what is committed.
        if (index > this.checker.committedCount) this.fail(`${node.id}: snapshot covers ${index}, never seen committed`);
        continue;
      }
      const entry = raft.entryAt(index);
      this.checker.observeCommitted(node.id, index, entry, raft.term);
      if (entry !== undefined && this.markerIndex === 0 && this.markers.some((m) => samePayload(m, entry.data))) this.markerIndex = index;
    }
    node.observedCommit = commit;
    if (this.checker.committedCount === before) return;
    for (const other of this.nodes) {
      const leader = other.raft;
      if (leader?.role !== 'leader') continue;
      this.checker.checkLeaderHas(other.id, leader.term, this.entryAt(leader), before + 1);
    }
  }

  private finalChecks(): void {
    const logs = [];
    for (const node of this.nodes) {
      logs.push({ id: `${node.id}/disk`, entries: node.disk.entries });
      const raft = node.raft;
      if (raft === null) continue;
      const entries: LogEntry[] = [];
      for (let index = raft.snapshotIndex + 1; index <= raft.lastIndex; index++) entries.push(raft.entryAt(index) as LogEntry);
      logs.push({ id: node.id, entries });
    }
    this.checker.checkLogsMatch(logs);
  }

  // ---------------------------------------------------------------- liveness

  /** The final heal (the world's), and paused replicas resume. */
  protected override endFaults(): void {
    for (const node of this.nodes) node.pausedUntil = 0;
    super.endFaults();
  }

  /** A leader must emerge and a command proposed after the heal must reach every replica. */
  private runUntilRecovered(): void {
    // A replica far behind with a tiny pipeline (1 message in flight, 256-byte batches, slow
    // disks) may need longer than LIVENESS_TICKS to catch up: stalling is the failure, so the
    // deadline moves while some replica keeps applying, up to 5 windows in all.
    const limits = { ticks: LIVENESS_TICKS, windows: 5, progress: () => this.appliedTotal(), beforeStep: () => this.proposeMarker() };
    this.runUntil(() => this.recovered(), limits, () => {
      const states = this.nodes.map((n) => `${n.id}:${n.raft?.role}/t${n.raft?.term}/c${n.raft?.commitIndex}/a${n.applied}/l${n.raft?.lastIndex}`);
      this.trace(JSON.stringify(this.currentLeader()?.raft?.status()));
      this.fail(`liveness: no recovery after the final heal, nothing applied for ${LIVENESS_TICKS} ticks (${states.join(' ')})`);
    });
  }

  private appliedTotal(): number {
    return this.nodes.reduce((total, node) => total + node.applied, 0);
  }

  private proposeMarker(): void {
    const leader = this.currentLeader();
    const raft = leader?.raft;
    if (leader === undefined || raft == null || this.markerTerm === raft.term || this.markerIndex > 0) return;
    const data = this.payload();
    this.markers.push(data);
    if (this.propose(leader, data) > 0) this.markerTerm = raft.term;
    this.pump(leader);
  }

  /** Every member of the leader's configuration (dissertation §4.1) applied the marker. */
  private recovered(): boolean {
    if (this.markerIndex === 0) return false;
    const membership = this.currentLeader()?.raft?.membership;
    if (membership === undefined) return false;
    const members = [...membership.voters, ...membership.learners];
    return this.nodes.every((node) => !members.includes(node.id) || node.applied >= this.markerIndex);
  }

  // ---------------------------------------------------------------- reporting

  private report(recoveryTicks: number): SimulationReport {
    return {
      seed: this.seed,
      nodes: this.size,
      steps: this.steps,
      virtualTicks: this.ticksSince(0),
      leaderTerms: this.checker.leaderTerms,
      committed: this.checker.committedCount,
      recoveryTicks,
      ...this.stats,
    };
  }
}

/** A stored snapshot's bytes: its chunks, joined. */
function storedBytes(disk: Disk, snapshot: Snapshot): Uint8Array {
  const chunks = disk.chunks.get(snapshot.index) ?? [];
  if (chunks.length !== snapshot.chunks || chunks.some((c) => c === undefined)) {
    throw new InvariantError(`snapshot ${snapshot.index}: ${chunks.length} of ${snapshot.chunks} chunks on disk`);
  }
  return joinChunks(chunks);
}

/**
 * Ready contract step 1: the runtime sends an InstallSnapshot with its chunk's bytes from the
 * stored snapshot, and drops one whose snapshot is no longer stored (null).
 */
function withChunk(m: Extract<RaftMessage, { type: 'InstallSnapshot' }>, disk: Disk): RaftMessage | null {
  const data = disk.chunks.get(m.lastIncludedIndex)?.[m.chunk];
  return data === undefined ? null : { ...m, data };
}

/** The replica an event is an input of (for pauses); undefined for cluster-wide events. */
function eventNode(event: SimEvent, byId: ReadonlyMap<NodeId, SimNode>): SimNode | undefined {
  switch (event.kind) {
    case 'tick':
    case 'persisted':
    case 'op':
    case 'staleRead':
      return event.node;
    case 'deliver':
      return byId.get(event.message.to);
    default:
      return undefined;
  }
}

function describeReady(rd: Ready): string {
  const first = rd.entries[0]?.index;
  const entries = first === undefined ? 'none' : `${first}..${first + rd.entries.length - 1}`;
  const snapshot = rd.snapshot === null ? '' : ` snapshot=${rd.snapshot.index}`;
  const compact = rd.compactTo === null ? '' : ` compactTo=${rd.compactTo}`;
  const truncate = rd.truncateFrom === null ? '' : ` truncateFrom=${rd.truncateFrom}`;
  return `entries=${entries}${snapshot}${compact}${truncate} committed=${rd.committed.length}`;
}

function describeMessage(m: RaftMessage): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'RequestVote':
      return `${head}${m.preVote ? ' pre' : ''}${m.leadershipTransfer === true ? ' transfer' : ''} last=${m.lastLogIndex}@${m.lastLogTerm}`;
    case 'RequestVoteResponse':
      return `${head}${m.preVote ? ' pre' : ''} ${m.voteGranted ? 'granted' : 'rejected'}`;
    case 'AppendEntries':
      return `${head} prev=${m.prevLogIndex}@${m.prevLogTerm} n=${m.entries.length} commit=${m.leaderCommit} round=${m.readRound}`;
    case 'AppendEntriesResponse':
      return `${head} ${m.success ? `ok match=${m.matchIndex}` : `reject hint=${m.conflictIndex}@${m.conflictTerm}`} round=${m.readRound}`;
    case 'TimeoutNow':
      return head;
    case 'InstallSnapshot':
      return `${head} snap=${m.lastIncludedIndex}@${m.lastIncludedTerm} chunk=${m.chunk}/${m.chunks} n=${m.data.byteLength} round=${m.readRound}`;
    case 'InstallSnapshotResponse':
      return `${head} snap=${m.lastIncludedIndex} ${m.done ? 'done' : `next=${m.nextChunk}`} round=${m.readRound}`;
    default: {
      const unknown: never = m;
      return unknown;
    }
  }
}
