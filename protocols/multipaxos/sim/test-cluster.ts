/**
 * A small deterministic in-memory cluster for the unit tests: FIFO delivery, instant persistence,
 * links that can be cut, replicas that crash and restart from their simulated disk. Every replica
 * is driven exactly through the Ready contract (types.ts), snapshots included: it takes one when
 * a Ready wants it (at once, or when the test says so), stores it in small chunks, fills in the
 * bytes of the SnapshotChunk messages it sends, and restores installed snapshots from its chunks.
 */
import { SeededRng } from '../../common/rng.js';
import { joinChunks } from '../../common/sim/snapshot-bytes.js';
import { ZERO_BALLOT } from '../ballot.js';
import { MultiPaxosNode } from '../paxos-node.js';
import type { Command, Decision, NodeId, PaxosConfig, PaxosMessage, PValue, ReadState, Ready, RestoredState, Snapshot } from '../types.js';

export const TEST_CONFIG: Omit<PaxosConfig, 'id' | 'replicas'> = {
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 2,
  window: 8,
  maxBatchBytes: 1 << 20,
  maxCatchUpSlots: 64,
};

export interface Disk {
  restored: RestoredState;
  accepted: Map<number, PValue>;
  decisions: Map<number, Command>;
  /** The stored snapshot's descriptor; its chunks (here: the JSON of the payload texts) in `chunks`. */
  snapshot: Snapshot | null;
  /** Snapshot chunks by snapshot slot: the stored one's, and those of one being received or taken. */
  chunks: Map<number, Uint8Array[]>;
}

export function emptyDisk(): Disk {
  return { restored: { ballotNum: ZERO_BALLOT, accepted: [], decisions: [], snapshot: null }, accepted: new Map(), decisions: new Map(), snapshot: null, chunks: new Map() };
}

/** The Ready's persist, as nodes/storage/leveldb-paxos-store.ts does it (and as strict). */
export function persist(disk: Disk, rd: Ready): void {
  const p = rd.persist;
  for (const c of p.snapshotChunks) {
    const chunks = disk.chunks.get(c.slot) ?? [];
    chunks[c.chunk] = c.data;
    disk.chunks.set(c.slot, chunks);
  }
  if (p.snapshot !== null) {
    if (storedBytes(disk, p.snapshot) === null) throw new Error(`snapshot ${p.snapshot.slot} installed without all its chunks`);
    setSnapshot(disk, p.snapshot);
  }
  if (p.ballotNum !== null) disk.restored.ballotNum = p.ballotNum;
  for (const pv of p.accepted) disk.accepted.set(pv.slot, pv);
  for (const d of p.decisions) disk.decisions.set(d.slot, d.command);
  const compactTo = p.compactTo;
  if (compactTo !== null) {
    if ((disk.snapshot?.slot ?? 0) < compactTo) throw new Error(`compaction to ${compactTo} beyond the stored snapshot ${disk.snapshot?.slot ?? 0}`);
    for (const slot of disk.accepted.keys()) if (slot <= compactTo) disk.accepted.delete(slot);
    for (const slot of disk.decisions.keys()) if (slot <= compactTo) disk.decisions.delete(slot);
  }
  disk.restored.accepted = [...disk.accepted.values()];
  disk.restored.decisions = [...disk.decisions].map(([slot, command]) => ({ slot, command }));
}

/** A snapshot this replica took, its chunks stored: make it the stored one unless one as new is. */
export function saveSnapshot(disk: Disk, snapshot: Snapshot): boolean {
  if (snapshot.slot <= (disk.snapshot?.slot ?? 0)) return false;
  setSnapshot(disk, snapshot);
  return true;
}

function setSnapshot(disk: Disk, snapshot: Snapshot): void {
  disk.snapshot = snapshot;
  disk.restored.snapshot = snapshot;
  for (const slot of disk.chunks.keys()) if (slot < snapshot.slot) disk.chunks.delete(slot);
}

/** A stored snapshot's bytes (its chunks joined), or null if a chunk is missing. */
export function storedBytes(disk: Disk, snapshot: Snapshot): Uint8Array | null {
  const chunks = disk.chunks.get(snapshot.slot) ?? [];
  const parts: Uint8Array[] = [];
  for (let k = 0; k < snapshot.chunks; k++) {
    const chunk = chunks[k];
    if (chunk === undefined) return null;
    parts.push(chunk);
  }
  return joinChunks(parts);
}

/** Splits bytes into chunks of chunkBytes (at least one chunk). */
export function splitChunks(data: Uint8Array, chunkBytes: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.byteLength || chunks.length === 0; at += chunkBytes) chunks.push(data.slice(at, at + chunkBytes));
  return chunks;
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function texts(command: Command | undefined): string[] {
  return (command?.payloads ?? []).map((p) => new TextDecoder().decode(p));
}

export function node(id: NodeId, replicas: NodeId[], seed = 1, disk = emptyDisk(), extra: Partial<PaxosConfig> = {}): MultiPaxosNode {
  return new MultiPaxosNode({ ...TEST_CONFIG, ...extra, id, replicas }, new SeededRng(seed), disk.restored);
}

export const encodeTexts = (list: string[]): Uint8Array => new TextEncoder().encode(JSON.stringify(list));
export const decodeTexts = (data: Uint8Array): string[] => JSON.parse(new TextDecoder().decode(data)) as string[];

/**
 * The test state machine restored from a snapshot's bytes. Chunks from a peer with a bug (the
 * fuzz test's mutants) can make them garbage: that is the runtime's state machine failing, not the
 * core, so it shows as a state no test expects instead of an exception.
 */
function restoreTexts(data: Uint8Array | null): string[] {
  try {
    return decodeTexts(data as Uint8Array);
  } catch {
    return ['<corrupt snapshot>'];
  }
}

export interface TestClusterOptions {
  /** Snapshots are stored and sent in chunks of this many bytes (small: transfers take many). */
  chunkBytes?: number;
  /** Take a snapshot as soon as a Ready wants one (default); false: only when the test calls takeSnapshot. */
  autoSnapshot?: boolean;
}

export class TestCluster {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, MultiPaxosNode>();
  readonly disks = new Map<NodeId, Disk>();
  readonly applied = new Map<NodeId, Decision[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly readsFailed = new Map<NodeId, number[]>();
  /** Payload texts covered by the last installed or restored snapshot (before `applied`). */
  readonly snapshotTexts = new Map<NodeId, string[]>();
  /** Slot of the state machine's last snapshot install or restore. */
  readonly installed = new Map<NodeId, number[]>();
  /** Snapshot chunks delivered, and snapshots taken (saved). */
  chunksSent = 0;
  snapshotsTaken = 0;
  /** The last snapshotWanted each replica's Ready carried. */
  readonly wanted = new Map<NodeId, number | null>();
  /** A message for which this returns true is dropped (after the `cut` links). */
  drop: (m: PaxosMessage) => boolean = () => false;
  readonly chunkBytes: number;
  autoSnapshot: boolean;
  private readonly extra: Partial<PaxosConfig>;
  /** Links that drop everything: "a->b". */
  readonly cut = new Set<string>();
  private queue: PaxosMessage[] = [];

  constructor(size: number, seed = 1, extra: Partial<PaxosConfig> = {}, options: TestClusterOptions = {}) {
    this.extra = extra;
    this.chunkBytes = options.chunkBytes ?? 8;
    this.autoSnapshot = options.autoSnapshot ?? true;
    this.ids = Array.from({ length: size }, (_, k) => `n${k + 1}`);
    for (const [k, id] of this.ids.entries()) {
      this.disks.set(id, emptyDisk());
      this.snapshotTexts.set(id, []);
      this.installed.set(id, []);
      this.nodes.set(id, node(id, this.ids, seed * 100 + k, emptyDisk(), extra));
      this.applied.set(id, []);
      this.readStates.set(id, []);
      this.readsFailed.set(id, []);
    }
  }

  node(id: NodeId): MultiPaxosNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`${id} is down`);
    return n;
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  healAll(): void {
    this.cut.clear();
  }

  /** Runs every replica's Ready cycle and delivers messages until quiet. */
  settle(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of this.ids) busy = this.cycle(id) || busy;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        if (this.cut.has(`${m.from}->${m.to}`) || this.drop(m)) continue;
        if (m.type === 'SnapshotChunk') this.chunksSent++;
        this.nodes.get(m.to)?.step(m);
        busy = true;
      }
      if (!busy) return;
    }
  }

  /** One Ready cycle of one replica with instant persistence; false if it had nothing. */
  cycle(id: NodeId): boolean {
    const n = this.nodes.get(id);
    if (n === undefined || !n.hasReady()) return false;
    const rd = n.ready();
    const disk = this.disks.get(id) as Disk;
    this.send(disk, rd.messages);
    persist(disk, rd);
    this.send(disk, rd.messagesAfterPersist);
    if (rd.installSnapshot !== null) {
      this.snapshotTexts.set(id, restoreTexts(storedBytes(disk, rd.installSnapshot)));
      this.applied.set(id, []);
      this.installed.get(id)?.push(rd.installSnapshot.slot);
    }
    this.applied.get(id)?.push(...rd.decided);
    this.readStates.get(id)?.push(...rd.readStates);
    this.readsFailed.get(id)?.push(...rd.readsFailed);
    n.advance(rd);
    this.wanted.set(id, rd.snapshotWanted);
    if (rd.snapshotWanted !== null && this.autoSnapshot) this.takeSnapshot(id);
    return true;
  }

  /**
   * The runtime's half of compaction: a snapshot of the state machine at its applied slot, stored
   * in chunks and saved, then reported to the core. Returns the slot, or null if there was nothing
   * new to snapshot.
   */
  takeSnapshot(id: NodeId): number | null {
    const n = this.node(id);
    const disk = this.disks.get(id) as Disk;
    const slot = n.slotOut - 1; // every slot handed out is applied here at once
    if (slot <= n.snapshotSlot) return null;
    const chunks = splitChunks(encodeTexts(this.appliedTexts(id)), this.chunkBytes);
    disk.chunks.set(slot, chunks);
    if (!saveSnapshot(disk, { slot, chunks: chunks.length })) return null;
    if (n.snapshotSaved(slot, chunks.length)) this.snapshotsTaken++;
    return slot;
  }

  /** Queues messages; a SnapshotChunk gets its bytes from the store, or is dropped if they are gone. */
  private send(disk: Disk, messages: PaxosMessage[]): void {
    for (const m of messages) {
      if (m.type !== 'SnapshotChunk') {
        this.queue.push(m);
        continue;
      }
      const data = disk.chunks.get(m.slot)?.[m.chunk];
      if (data !== undefined) this.queue.push({ ...m, data });
    }
  }

  tick(id: NodeId, times = 1): void {
    for (let k = 0; k < times; k++) {
      this.nodes.get(id)?.tick();
      this.settle();
    }
  }

  tickAll(times = 1): void {
    for (let k = 0; k < times; k++) {
      for (const n of this.nodes.values()) n.tick();
      this.settle();
    }
  }

  /** Makes `id` the leader: its timer fires first, then everything settles. */
  elect(id: NodeId): void {
    for (let k = 0; k < 30 && this.node(id).role !== 'leader'; k++) this.tick(id);
    if (this.node(id).role !== 'leader') throw new Error(`${id} did not become leader`);
  }

  crash(id: NodeId): void {
    this.nodes.delete(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  /** Restarts from the disk; chunks of anything but the stored snapshot go (as the store's load). */
  restart(id: NodeId, seed = 7): void {
    this.applied.set(id, []);
    const disk = this.disks.get(id) as Disk;
    for (const slot of disk.chunks.keys()) if (slot !== disk.snapshot?.slot) disk.chunks.delete(slot);
    this.snapshotTexts.set(id, disk.snapshot === null ? [] : restoreTexts(storedBytes(disk, disk.snapshot)));
    this.nodes.set(id, node(id, this.ids, seed, disk, this.extra));
    this.settle();
  }

  /** Restart with an empty disk (a wiped data directory). */
  wipe(id: NodeId): void {
    this.disks.set(id, emptyDisk());
    this.restart(id);
  }

  /** Every payload applied: the snapshot's, then the slots applied after it. */
  appliedTexts(id: NodeId): string[] {
    return [...(this.snapshotTexts.get(id) ?? []), ...(this.applied.get(id) ?? []).flatMap((d) => texts(d.command))];
  }
}
