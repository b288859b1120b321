/**
 * A seeded, deterministic simulation of a Multi-Paxos cluster, the twin of protocols/raft/sim/
 * simulation.ts: Multi-Paxos's adapter to the shared world of protocols/common/sim/ (event loop,
 * faulty network, crashes and restarts, disk latency, liveness phase), and its own checks. The
 * world drives 3 or 5 MultiPaxosNodes exactly through the Ready contract, over a network that
 * drops, delays, reorders and duplicates messages and partitions replicas, with replicas that
 * crash (losing everything not yet persisted, the Ready being persisted included) and restart from
 * their simulated disk. Clients propose commands and request reads throughout. The simulated
 * runtime does its half of snapshots as the real one does: it takes them in the background when a
 * Ready wants one (chunks first, then the descriptor, with delays and crashes between), sends
 * chunks over the same faulty network and restores installed snapshots in the background, applying
 * what is decided meanwhile afterwards. After every event the PaxosSafetyChecker checks safety; at
 * the end, with faults over, the cluster must recover.
 *
 * Pure: no timers, no clock, no I/O. A seed fully determines a run.
 */
import { runGuarded, SimulationFailure } from '../../common/sim/sim-run.js';
import { invariant } from '../../common/invariant.js';
import type { Rng } from '../../common/rng.js';
import { randomPayload, samePayload } from '../../common/sim/payload.js';
import { decodeSimSnapshot, encodeSimSnapshot, joinChunks, splitChunks } from '../../common/sim/snapshot-bytes.js';
import { LeaderWorld } from '../../common/sim/leader-world.js';
import { TICK } from '../../common/sim/world.js';
import { compareBallots, formatBallot, sameBallot } from '../ballot.js';
import { MultiPaxosNode } from '../paxos-node.js';
import { applyToHash, PaxosSafetyChecker } from './sim-checker.js';
import type { Ballot, Command, Decision, NodeId, PaxosConfig, PaxosMessage, PValue, Ready, Snapshot } from '../types.js';

/** Thrown with the seed and the command replaying the run (protocols/common/sim/sim-run.ts). */
export { SimulationFailure };

export interface SimulationOptions {
  seed: number;
  /** Replicas; by default 3 for even seeds and 5 for odd ones. */
  nodes?: number;
  /** Events processed while faults are injected; then the cluster is healed and must recover. */
  steps?: number;
  log?: (line: string) => void;
  logMessages?: boolean;
}

export interface SimulationReport {
  seed: number;
  nodes: number;
  steps: number;
  virtualTicks: number;
  /** Ballots that had an active leader. */
  leaderBallots: number;
  decided: number;
  acknowledged: number;
  readsServed: number;
  readsFailed: number;
  crashes: number;
  partitions: number;
  messagesSent: number;
  messagesDropped: number;
  /** Garbage collections, snapshots taken (saved) and installed from a peer, chunks sent. */
  compactions: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  snapshotChunksSent: number;
  recoveryTicks: number;
}

export const DEFAULT_STEPS = 10000;
const LIVENESS_TICKS = 600;

export function defaultNodes(seed: number): number {
  return seed % 2 === 0 ? 3 : 5;
}

export function replayCommand(options: SimulationOptions): string {
  let command = `npm run sim:paxos -- --seed ${options.seed}`;
  if (options.nodes !== undefined && options.nodes !== defaultNodes(options.seed)) command += ` --nodes ${options.nodes}`;
  if (options.steps !== undefined && options.steps !== DEFAULT_STEPS) command += ` --steps ${options.steps}`;
  return command;
}

export function simulate(options: SimulationOptions): SimulationReport {
  return runGuarded('multipaxos', options.seed, replayCommand(options), () => new Simulation(options).run());
}

interface Params {
  heartbeatIntervalTicks: number;
  window: number;
  maxBatchBytes: number;
  maxCatchUpSlots: number;
  dropRate: number;
  duplicateRate: number;
  slowRate: number;
  persistMax: number;
  faultGap: number;
  clientGap: number;
  crashWhilePersistingRate: number;
  snapshotEvery: number;
  /** Snapshots are stored and sent in chunks of this many bytes: often tiny, so transfers take many. */
  maxSnapshotChunkBytes: number;
  /** Taking a snapshot (writing its chunks, then saving it) and restoring one take up to this long. */
  snapshotDelayMax: number;
  /** Chance of a crash between a snapshot's chunks and its descriptor. */
  crashWhileSnapshottingRate: number;
}

function drawParams(rng: Rng): Params {
  const pick = <T>(values: readonly T[]): T => values[rng.int(values.length)] as T;
  return {
    heartbeatIntervalTicks: pick([1, 2, 3]),
    window: pick([2, 4, 16]),
    maxBatchBytes: pick([64, 256, 1 << 16]),
    maxCatchUpSlots: pick([1, 4, 64]),
    dropRate: pick([0, 0.02, 0.1, 0.25]),
    duplicateRate: pick([0, 0.03, 0.15]),
    slowRate: pick([0, 0.05, 0.2]),
    persistMax: pick([2, 8, 20]),
    faultGap: pick([60, 200, 600]),
    clientGap: pick([5, 20, 60]),
    crashWhilePersistingRate: pick([0, 0.002, 0.01]),
    snapshotEvery: pick([1, 3, 8, 32]),
    maxSnapshotChunkBytes: pick([4, 16, 64, 1 << 20]),
    snapshotDelayMax: pick([2, 20, 100]),
    crashWhileSnapshottingRate: pick([0, 0.05, 0.2]),
  };
}

interface Disk {
  ballotNum: Ballot;
  accepted: Map<number, PValue>;
  decisions: Map<number, Command>;
  /** The stored snapshot's descriptor. */
  snapshot: Snapshot | null;
  /** Snapshot chunks by snapshot slot: the stored one's, one being received, one being taken. */
  chunks: Map<number, Uint8Array[]>;
}

/** A stored snapshot's bytes (its chunks joined), or null if a chunk is missing. */
function storedBytes(disk: Disk, snapshot: Snapshot): Uint8Array | null {
  const chunks = disk.chunks.get(snapshot.slot) ?? [];
  const parts: Uint8Array[] = [];
  for (let k = 0; k < snapshot.chunks; k++) {
    const chunk = chunks[k]; // the array has holes where chunks are missing
    if (chunk === undefined) return null;
    parts.push(chunk);
  }
  return joinChunks(parts);
}

/** The stored snapshot is replaced: the chunks of older ones go (the store's saveSnapshot). */
function setSnapshot(disk: Disk, snapshot: Snapshot): void {
  disk.snapshot = snapshot;
  for (const slot of disk.chunks.keys()) if (slot < snapshot.slot) disk.chunks.delete(slot);
}

/** A snapshot being taken in the background: the cut (slot and state hash) it was opened at. */
interface Take {
  slot: number;
  hash: number;
  chunks: number;
}

/** An installed snapshot being restored in the background. */
interface Restore {
  slot: number;
  chunks: number;
}

interface Proposal {
  ballot: Ballot;
  payloads: Uint8Array[];
}

interface SimNode {
  id: NodeId;
  paxos: MultiPaxosNode | null;
  epoch: number;
  disk: Disk;
  persisting: Ready | null;
  applied: number;
  stateHash: number;
  leaderBallot: string;
  proposals: Map<number, Proposal>;
  reads: Map<number, number>;
  taking: Take | null;
  restoring: Restore | null;
  /** Decided slots handed out while a restore runs: applied once it is done. */
  deferred: Decision[];
}

/** Multi-Paxos's own events (the world's are in protocols/common/sim/world.ts). */
type PaxosEvent =
  | { kind: 'tick'; node: SimNode; epoch: number }
  | { kind: 'deliver'; message: PaxosMessage }
  | { kind: 'snapshotWritten'; node: SimNode; epoch: number; take: Take }
  | { kind: 'snapshotSaved'; node: SimNode; epoch: number; take: Take }
  | { kind: 'restored'; node: SimNode; epoch: number; restore: Restore };

class Simulation extends LeaderWorld<SimNode, PaxosEvent, Params, NodeId> {
  protected readonly ids: NodeId[];
  protected readonly nodes: SimNode[];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly checker: PaxosSafetyChecker;
  private readonly leaderBallots = new Set<string>();
  private payloadSeq = 0;
  private readSeq = 0;
  private readonly markers = new Set<Uint8Array>();
  private markerBallot = '';
  private markerSlot = 0;
  private readonly stats = {
    acknowledged: 0,
    readsServed: 0,
    readsFailed: 0,
    crashes: 0,
    partitions: 0,
    messagesSent: 0,
    messagesDropped: 0,
    compactions: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    snapshotChunksSent: 0,
  };

  constructor(options: SimulationOptions) {
    const { seed, log, logMessages } = options;
    super({ protocol: 'multipaxos', seed, steps: options.steps ?? DEFAULT_STEPS, replay: replayCommand(options), log, logMessages }, drawParams);
    this.checker = new PaxosSafetyChecker((reason) => this.fail(reason));
    const count = options.nodes ?? defaultNodes(options.seed);
    invariant(count >= 1 && count <= 9, 'nodes must be 1..9');
    this.ids = Array.from({ length: count }, (_, k) => `n${k + 1}`);
    this.nodes = this.ids.map((id) => this.newNode(id));
    for (const node of this.nodes) this.byId.set(node.id, node);
  }

  run(): SimulationReport {
    this.trace(`params ${JSON.stringify(this.params)}`);
    for (const node of this.nodes) this.start(node);
    this.runFaultPhase();
    const healedAt = this.now;
    this.endFaults();
    this.runUntilRecovered();
    for (const node of this.nodes) {
      const paxos = node.paxos;
      if (paxos !== null) this.checker.checkHolds(node.id, (slot) => paxos.decisionAt(slot), node.applied, paxos.compactionPoint);
    }
    return this.report(this.ticksSince(healedAt));
  }

  // ---------------------------------------------------------------- event loop

  protected handleOwn(event: PaxosEvent): void {
    switch (event.kind) {
      case 'tick':
        return this.onTick(event.node, event.epoch);
      case 'deliver':
        return this.onDeliver(event.message);
      case 'snapshotWritten':
        return this.onSnapshotWritten(event.node, event.epoch, event.take);
      case 'snapshotSaved':
        return this.onSnapshotSaved(event.node, event.epoch, event.take);
      case 'restored':
        return this.onRestored(event.node, event.epoch, event.restore);
      default: {
        const unknown: never = event;
        return unknown;
      }
    }
  }

  private onTick(node: SimNode, epoch: number): void {
    if (node.paxos === null || node.epoch !== epoch) return;
    node.paxos.tick();
    this.pump(node);
    this.queue.push(this.now + TICK, { kind: 'tick', node, epoch });
  }

  private onDeliver(m: PaxosMessage): void {
    const node = this.byId.get(m.to);
    if (node?.paxos == null || !this.net.linked(m.from, m.to)) return;
    if (this.logMessages) this.trace(`deliver ${describeMessage(m)}`);
    node.paxos.step(m);
    this.pump(node);
  }

  private pump(node: SimNode): void {
    const paxos = node.paxos;
    if (paxos === null || node.persisting !== null || !paxos.hasReady()) return;
    const rd = paxos.ready();
    node.persisting = rd;
    for (const m of rd.messages) this.sendFrom(node, m);
    // A Ready holding a promise or an acceptance is where a lost write does most harm: target it.
    const risky = rd.persist.ballotNum !== null || rd.persist.accepted.length > 0;
    this.persistLater(node, risky ? 10 : 1);
  }

  protected onPersisted(node: SimNode, epoch: number): void {
    const rd = node.persisting;
    if (node.paxos === null || node.epoch !== epoch || rd === null) return;
    this.writeDisk(node, rd);
    for (const m of rd.messagesAfterPersist) this.sendFrom(node, m);
    if (rd.installSnapshot !== null) this.install(node, rd.installSnapshot);
    for (const d of rd.decided) this.apply(node, d.slot, d.command);
    for (const rs of rd.readStates) this.serveRead(node, rs.ctx, rs.slot);
    for (const ctx of rd.readsFailed) this.failRead(node, ctx);
    node.persisting = null;
    node.paxos.advance(rd);
    if (rd.snapshotWanted !== null) this.takeSnapshot(node);
    this.pump(node);
  }

  /** The runtime's send: a SnapshotChunk gets its bytes from the store, or is dropped if they are gone. */
  private sendFrom(node: SimNode, m: PaxosMessage): void {
    if (m.type !== 'SnapshotChunk') return this.send(m);
    const data = node.disk.chunks.get(m.slot)?.[m.chunk];
    if (data === undefined) return;
    this.stats.snapshotChunksSent++;
    this.send({ ...m, data });
  }

  private writeDisk(node: SimNode, rd: Ready): void {
    const p = rd.persist;
    for (const c of p.snapshotChunks) {
      const chunks = node.disk.chunks.get(c.slot) ?? [];
      chunks[c.chunk] = c.data;
      node.disk.chunks.set(c.slot, chunks);
    }
    if (p.snapshot !== null) {
      if (storedBytes(node.disk, p.snapshot) === null) this.fail(`${node.id} installs snapshot ${p.snapshot.slot} without all its chunks stored`);
      if (p.snapshot.slot <= (node.disk.snapshot?.slot ?? 0)) this.fail(`${node.id} installs snapshot ${p.snapshot.slot} over a newer one`);
      setSnapshot(node.disk, p.snapshot);
    }
    if (p.ballotNum !== null) {
      if (compareBallots(p.ballotNum, node.disk.ballotNum) < 0) this.fail(`${node.id} persisted a lower ballot_num`);
      node.disk.ballotNum = p.ballotNum;
    }
    for (const pv of p.accepted) node.disk.accepted.set(pv.slot, pv);
    for (const d of p.decisions) {
      this.checker.observeDecided(node.id, d.slot, d.command);
      node.disk.decisions.set(d.slot, d.command);
    }
    if (p.compactTo !== null) {
      // Compaction needs a durable snapshot covering it (saved earlier, or installed above).
      const covered = node.disk.snapshot?.slot ?? 0;
      if (covered < p.compactTo) this.fail(`${node.id} compacts to ${p.compactTo} beyond its stored snapshot (${covered})`);
      for (const slot of node.disk.accepted.keys()) if (slot <= p.compactTo) node.disk.accepted.delete(slot);
      for (const slot of node.disk.decisions.keys()) if (slot <= p.compactTo) node.disk.decisions.delete(slot);
      this.stats.compactions++;
    }
  }

  // ---------------------------------------------------------------- the runtime's snapshots

  /**
   * Ready.snapshotWanted: a snapshot of the state machine at its applied slot, in the background
   * (a cut: the slot and state hash now), unless one is being taken or restored already.
   */
  private takeSnapshot(node: SimNode): void {
    const paxos = node.paxos;
    if (paxos === null || node.taking !== null || node.restoring !== null || node.applied <= paxos.snapshotSlot) return;
    const take: Take = { slot: node.applied, hash: node.stateHash, chunks: 0 };
    node.taking = take;
    this.queue.push(this.now + this.rng.between(1, this.params.snapshotDelayMax), { kind: 'snapshotWritten', node, epoch: node.epoch, take });
  }

  /** Its chunks are written; the descriptor follows. A crash in between leaves chunks and no snapshot. */
  private onSnapshotWritten(node: SimNode, epoch: number, take: Take): void {
    if (node.paxos === null || node.epoch !== epoch || node.taking !== take) return;
    const chunks = splitChunks(encodeSimSnapshot(take.slot, take.hash), this.params.maxSnapshotChunkBytes);
    take.chunks = chunks.length;
    node.disk.chunks.set(take.slot, chunks);
    const delay = this.rng.between(1, this.params.snapshotDelayMax);
    this.queue.push(this.now + delay, { kind: 'snapshotSaved', node, epoch, take });
    if (this.faulty && this.rng.chance(this.params.crashWhileSnapshottingRate)) {
      this.queue.push(this.now + this.rng.int(delay), { kind: 'crash', node, epoch });
    }
  }

  /** The store's saveSnapshot, then snapshotSaved: compaction may now go up to it. */
  private onSnapshotSaved(node: SimNode, epoch: number, take: Take): void {
    const paxos = node.paxos;
    if (paxos === null || node.epoch !== epoch || node.taking !== take) return;
    node.taking = null;
    const stored = node.disk.snapshot?.slot ?? 0;
    if (take.slot <= stored) {
      if (take.slot < stored) node.disk.chunks.delete(take.slot); // an installed snapshot overtook it
      return;
    }
    const snapshot = { slot: take.slot, chunks: take.chunks };
    setSnapshot(node.disk, snapshot);
    this.trace(`${node.id} saves snapshot ${snapshot.slot} (${snapshot.chunks} chunks)`);
    this.checker.observeSnapshot(node.id, take.slot, take.hash);
    if (paxos.snapshotSaved(snapshot.slot, snapshot.chunks)) this.stats.snapshotsTaken++;
    this.pump(node);
  }

  /**
   * State transfer: the state machine is rebuilt from the installed snapshot's chunks in the
   * background (a snapshot being taken is abandoned); decided slots wait for it.
   */
  private install(node: SimNode, snap: Snapshot): void {
    const at = Math.max(node.applied, node.restoring?.slot ?? 0);
    if (snap.slot <= at) this.fail(`${node.id} installs a snapshot at ${snap.slot} after applying ${at}`);
    node.taking = null;
    node.deferred = [];
    const restore: Restore = { slot: snap.slot, chunks: snap.chunks };
    node.restoring = restore;
    // Proposals in covered slots never learn their outcome here (a client would time out and
    // retry); a lost marker is proposed again.
    for (const [slot, proposal] of node.proposals) {
      if (slot > snap.slot) continue;
      node.proposals.delete(slot);
      if (proposal.payloads.some((data) => this.markers.has(data))) this.markerBallot = '';
    }
    this.stats.snapshotsInstalled++;
    this.trace(`${node.id} installs snapshot ${snap.slot} (${snap.chunks} chunks), restoring`);
    this.queue.push(this.now + this.rng.between(1, this.params.snapshotDelayMax), { kind: 'restored', node, epoch: node.epoch, restore });
  }

  /** The restore is done: the state must be the one every replica had at its slot. */
  private onRestored(node: SimNode, epoch: number, restore: Restore): void {
    if (node.paxos === null || node.epoch !== epoch || node.restoring !== restore) return;
    this.restoreFromDisk(node, restore);
    node.restoring = null;
    const queued = node.deferred;
    node.deferred = [];
    for (const d of queued) this.apply(node, d.slot, d.command);
  }

  private restoreFromDisk(node: SimNode, snapshot: Snapshot): void {
    const data = storedBytes(node.disk, snapshot);
    if (data === null) this.fail(`${node.id}: chunks of its snapshot ${snapshot.slot} are missing`);
    const { point: slot, hash } = decodeSimSnapshot(data);
    if (slot !== snapshot.slot) this.fail(`${node.id}: snapshot ${snapshot.slot} holds the state at ${slot}`);
    node.applied = slot;
    node.stateHash = hash;
    this.checker.observeSnapshot(node.id, slot, hash);
  }

  private apply(node: SimNode, slot: number, command: Command): void {
    if (node.restoring !== null) {
      node.deferred.push({ slot, command });
      return;
    }
    if (slot !== node.applied + 1) this.fail(`${node.id} applied slot ${slot} after ${node.applied}`);
    node.applied = slot;
    node.stateHash = applyToHash(node.stateHash, command);
    this.checker.observeApplied(node.id, slot, command, node.stateHash);
    const proposal = node.proposals.get(slot);
    if (proposal === undefined) return;
    node.proposals.delete(slot);
    if (command.kind !== 'batch' || !sameBallot(command.origin, proposal.ballot)) return;
    // Compared by bytes: a replica keeps its own copy of every command (slot-commands.ts).
    for (const data of proposal.payloads) {
      if (!command.payloads.some((p) => samePayload(p, data))) this.fail(`${node.id}: a payload proposed at slot ${slot} is missing from its batch`);
    }
    this.checker.acknowledge(slot, command);
    this.stats.acknowledged += proposal.payloads.length;
    if (proposal.payloads.some((data) => this.markers.has(data)) && this.markerSlot === 0) this.markerSlot = slot;
  }

  // ---------------------------------------------------------------- network

  private send(m: PaxosMessage): void {
    this.stats.messagesSent++;
    if (m.type === 'P2a') this.checker.observeP2a(m.pvalue);
    if (!this.transmit(m.from, m.to, { kind: 'deliver', message: m })) this.stats.messagesDropped++;
  }

  // ---------------------------------------------------------------- clients

  protected onClient(): void {
    const node = this.pickClientTarget();
    if (node?.paxos == null) return;
    if (this.faulty && this.rng.chance(0.7)) {
      const burst = this.rng.between(1, 4);
      for (let k = 0; k < burst; k++) this.propose(node, this.payload());
    } else {
      const ctx = ++this.readSeq;
      node.reads.set(ctx, this.checker.highestAcked);
      node.paxos.readIndex(ctx);
    }
    this.pump(node);
  }

  protected isUp(node: SimNode): boolean {
    return node.paxos !== null;
  }

  protected isLeader(node: SimNode): boolean {
    return node.paxos?.role === 'leader';
  }

  /** The leader of the highest ballot. */
  protected currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes) {
      if (node.paxos?.role !== 'leader') continue;
      if (best?.paxos == null || compareBallots(node.paxos.currentBallot, best.paxos.currentBallot) > 0) best = node;
    }
    return best;
  }

  private propose(node: SimNode, data: Uint8Array): boolean {
    const paxos = node.paxos;
    if (paxos === null) return false;
    const result = paxos.propose(data);
    if (!result.ok) return false;
    const known = node.proposals.get(result.slot);
    if (known !== undefined && sameBallot(known.ballot, result.ballot)) known.payloads.push(data);
    else node.proposals.set(result.slot, { ballot: result.ballot, payloads: [data] });
    return true;
  }

  private payload(): Uint8Array {
    return randomPayload(this.rng, ++this.payloadSeq);
  }

  private serveRead(node: SimNode, ctx: number, slot: number): void {
    const ackedAtRequest = node.reads.get(ctx);
    if (ackedAtRequest === undefined) this.fail(`${node.id} released read ${ctx} it was never asked`);
    node.reads.delete(ctx);
    this.checker.checkRead(node.id, ctx, slot, ackedAtRequest);
    this.stats.readsServed++;
  }

  private failRead(node: SimNode, ctx: number): void {
    if (!node.reads.delete(ctx)) this.fail(`${node.id} failed read ${ctx} it was never asked`);
    this.stats.readsFailed++;
  }

  // ---------------------------------------------------------------- faults

  protected onFault(roll: number): void {
    if (roll < 0.45) this.crashSomeone();
    else if (roll < 0.8) this.partition();
    else this.heal();
  }

  protected crash(victim: SimNode): void {
    if (victim.paxos === null) return;
    victim.paxos = null;
    victim.epoch++;
    victim.persisting = null;
    victim.proposals.clear();
    victim.reads.clear();
    victim.taking = null;
    victim.restoring = null;
    victim.deferred = [];
    this.stats.crashes++;
    this.trace(`${victim.id} crashes`);
    this.restartLater(victim, 40);
  }

  /** A random split, or a leader cut off with at most a minority (leader-world.ts). */
  private partition(): void {
    const sides = this.partitionAroundLeader();
    this.stats.partitions++;
    this.trace(`partition ${this.ids.map((id) => `${id}:${sides.get(id)}`).join(' ')}`);
  }

  protected restart(node: SimNode): void {
    if (node.paxos !== null) return;
    this.start(node);
    this.trace(`${node.id} restarts with ballot_num ${formatBallot(node.disk.ballotNum)}, ${node.disk.decisions.size} decisions`);
  }

  /**
   * Boots a replica from its disk as the runtime does: the store drops every chunk but the stored
   * snapshot's (a transfer or a snapshot cut short by the crash), and the state machine is restored
   * from that snapshot before the replica runs.
   */
  private start(node: SimNode): void {
    node.epoch++;
    const snap = node.disk.snapshot;
    for (const slot of node.disk.chunks.keys()) if (slot !== snap?.slot) node.disk.chunks.delete(slot);
    node.applied = 0;
    node.stateHash = 0;
    if (snap !== null) this.restoreFromDisk(node, snap);
    node.taking = null;
    node.restoring = null;
    node.deferred = [];
    node.leaderBallot = '';
    const restored = {
      ballotNum: node.disk.ballotNum,
      accepted: [...node.disk.accepted.values()],
      decisions: [...node.disk.decisions].map(([slot, command]) => ({ slot, command })),
      snapshot: snap,
    };
    node.paxos = new MultiPaxosNode(this.config(node.id), this.rng.fork(), restored);
    this.queue.push(this.now + this.rng.between(1, TICK), { kind: 'tick', node, epoch: node.epoch });
    this.pump(node);
  }

  private config(id: NodeId): PaxosConfig {
    return {
      id,
      replicas: this.ids,
      electionTimeoutTicks: 10,
      heartbeatIntervalTicks: this.params.heartbeatIntervalTicks,
      window: this.params.window,
      maxBatchBytes: this.params.maxBatchBytes,
      maxCatchUpSlots: this.params.maxCatchUpSlots,
      snapshotEvery: this.params.snapshotEvery,
    };
  }

  private newNode(id: NodeId): SimNode {
    return {
      id,
      paxos: null,
      epoch: 0,
      disk: { ballotNum: { round: 0, leader: '' }, accepted: new Map(), decisions: new Map(), snapshot: null, chunks: new Map() },
      persisting: null,
      applied: 0,
      stateHash: 0,
      leaderBallot: '',
      proposals: new Map(),
      reads: new Map(),
      taking: null,
      restoring: null,
      deferred: [],
    };
  }

  // ---------------------------------------------------------------- checks

  protected override afterStep(): void {
    for (const node of this.nodes) {
      const paxos = node.paxos;
      if (paxos?.role !== 'leader') continue;
      const ballot = formatBallot(paxos.currentBallot);
      if (node.leaderBallot === ballot) continue;
      node.leaderBallot = ballot;
      if (this.leaderBallots.has(ballot)) this.fail(`ballot ${ballot} adopted twice`);
      this.leaderBallots.add(ballot);
      this.trace(`${node.id} is leader of ballot ${ballot}`);
    }
  }

  // ---------------------------------------------------------------- liveness

  /** A leader must emerge and a command proposed after the heal must reach every replica. */
  private runUntilRecovered(): void {
    this.runUntil(() => this.recovered(), { ticks: LIVENESS_TICKS, beforeStep: () => this.proposeMarker() }, () => {
      const states = this.nodes.map((n) => `${n.paxos?.describe()}/a${n.applied}`);
      this.fail(`liveness: no recovery within ${LIVENESS_TICKS} ticks of the final heal (${states.join(' ')})`);
    });
  }

  private proposeMarker(): void {
    const leader = this.currentLeader();
    const paxos = leader?.paxos;
    if (leader === undefined || paxos == null || this.markerSlot > 0) return;
    const ballot = formatBallot(paxos.currentBallot);
    if (this.markerBallot === ballot) return;
    const data = this.payload();
    this.markers.add(data);
    if (this.propose(leader, data)) this.markerBallot = ballot;
    this.pump(leader);
  }

  private recovered(): boolean {
    return this.markerSlot > 0 && this.nodes.every((node) => node.applied >= this.markerSlot);
  }

  // ---------------------------------------------------------------- reporting

  private report(recoveryTicks: number): SimulationReport {
    return {
      seed: this.seed,
      nodes: this.ids.length,
      steps: this.steps,
      virtualTicks: this.ticksSince(0),
      leaderBallots: this.leaderBallots.size,
      decided: this.checker.decidedCount,
      recoveryTicks,
      ...this.stats,
    };
  }
}

function describeMessage(m: PaxosMessage): string {
  const head = `${m.from}->${m.to} ${m.type}`;
  switch (m.type) {
    case 'P1a':
      return `${head} b=${formatBallot(m.ballot)} from=${m.fromSlot}`;
    case 'P1b':
      return `${head} req=${formatBallot(m.request)} ballotNum=${formatBallot(m.ballotNum)} accepted=${m.accepted.length} compacted=${m.compactedTo}`;
    case 'P2a':
      return `${head} b=${formatBallot(m.pvalue.ballot)} s=${m.pvalue.slot} ${m.pvalue.command.kind}`;
    case 'P2b':
      return `${head} ballotNum=${formatBallot(m.ballotNum)} s=${m.slot}`;
    case 'Decision':
      return `${head} slots=${m.decisions.map((d) => d.slot).join(',')}`;
    case 'Heartbeat':
      return `${head} b=${formatBallot(m.ballot)} slotOut=${m.slotOut} round=${m.readRound} gc=${m.gcSlot}`;
    case 'HeartbeatAck':
      return `${head} ballotNum=${formatBallot(m.ballotNum)} round=${m.readRound} applied=${m.applied}`;
    case 'CatchUp':
      return `${head} from=${m.fromSlot}`;
    case 'SnapshotOffer':
      return `${head} slot=${m.slot} chunks=${m.chunks}`;
    case 'SnapshotFetch':
      return `${head} slot=${m.slot} chunk=${m.chunk}`;
    case 'SnapshotChunk':
      return `${head} slot=${m.slot} chunk=${m.chunk}/${m.chunks}`;
    default: {
      const unknown: never = m;
      return unknown;
    }
  }
}
