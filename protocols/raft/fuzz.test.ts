/**
 * Mutation fuzzing of the Raft core (docs/design.md §3.7: a replica never crashes on input from outside).
 * Raft trusts its peers to follow the protocol (it is not Byzantine-tolerant), so what is checked
 * here is robustness, not safety: a peer with a bug may send any message the runtime's guard
 * (nodes/raft/message-guard.ts) lets through, and the receiving core must neither throw nor stop
 * producing Readys.
 *
 * 1. A corpus of real messages from a 3-replica TestCluster: elections with pre-vote, replication,
 *    ReadIndex rounds, a leadership transfer (TimeoutNow), a follower behind a compacted log
 *    (InstallSnapshot in small chunks).
 * 2. Per seed, one replica is the target; mutants of corpus messages (protocols/common/sim/mutate.ts:
 *    terms and indices to 0, 2^31, MAX_SAFE_INTEGER, off by one, near the target's own log;
 *    entries emptied, duplicated, reordered; ...) from one of its peers, kept only if the guard
 *    accepts them, are stepped into it mid-run, between normal traffic, ticks and compactions.
 * 3. step(), ready() and advance() must never throw.
 *
 * FUZZ_SEEDS=N (and FUZZ_FROM) run more seeds; FUZZ_SEED=s replays one; FUZZ_ALL=1 prints every
 * failing seed, not just the first three.
 */
import t from 'tap';
import { isRaftMessage } from '../../nodes/raft/message-guard.js';
import { FuzzFailure, fuzzTest, MessageCorpus } from '../common/sim/fuzz-run.js';
import { mutate } from '../common/sim/mutate.js';
import { SeededRng, type Rng } from '../common/rng.js';
import type { RaftNode } from './raft-node.js';
import { TestCluster } from './sim/test-cluster.js';
import type { NodeId, RaftConfig, RaftMessage } from './types.js';

const SEEDS = 2000;
const MUTANTS_PER_SEED = 60;
const FROZEN = new Set(['type', 'from', 'to']);
const CONFIG: Partial<RaftConfig> = {};
/** Tiny snapshot chunks, so that the corpus holds transfers of several InstallSnapshot messages. */
const SNAPSHOT_CHUNK_BYTES = 8;

// ------------------------------------------------------------------------------ the corpus

function buildCorpus(): RaftMessage[] {
  const c = new TestCluster(3, CONFIG, {}, 1);
  c.snapshotChunkBytes = SNAPSHOT_CHUNK_BYTES;
  c.campaign('n1');
  let k = 0;
  const propose = (count: number): void => {
    for (let i = 0; i < count; i++) c.node(c.leader() ?? 'n1').propose(new Uint8Array([k++ % 256, 1, 2]));
    c.stabilize();
  };
  propose(5);
  c.node('n1').readIndex(1);
  c.stabilize();
  // n3 falls behind a compacted log: InstallSnapshot in chunks (Raft §7).
  c.crash('n3');
  propose(8);
  c.compact('n1', c.node('n1').commitIndex, new Uint8Array(40).fill(7));
  c.restart('n3');
  c.tickAll(10);
  // Leadership transfer (dissertation §3.10): TimeoutNow, and a RequestVote with leadershipTransfer.
  c.node('n1').transferLeadership('n2');
  c.tickAll(10);
  propose(4);
  // An election after a leader crash.
  const leader = c.leader() ?? 'n2';
  c.crash(leader);
  c.tickAll(30);
  c.restart(leader);
  c.tickAll(10);
  propose(3);
  return c.sent;
}

const corpus = new MessageCorpus(buildCorpus());

// ------------------------------------------------------------------------------ mutants

/** A value a peer could plausibly send to `node`: its term, or an index near its own log's edges. */
function makePlausible(m: Record<string, unknown>, rng: Rng, node: RaftNode, changes: string[]): void {
  if (rng.chance(0.5)) {
    const term = node.term + rng.int(2);
    changes.push(`term: ${m['term']} -> ${term} (the target's term${term > node.term ? ' + 1' : ''})`);
    m['term'] = term;
  }
  const near = [0, node.snapshotIndex, node.snapshotIndex + 1, node.commitIndex, node.commitIndex + 1, node.lastIndex, node.lastIndex + 1, node.lastIndex + 2];
  for (const key of ['prevLogIndex', 'leaderCommit', 'matchIndex', 'conflictIndex', 'lastIncludedIndex', 'lastLogIndex', 'nextChunk', 'chunk', 'chunks']) {
    if (typeof m[key] === 'number' && rng.chance(0.3)) {
      const value = near[rng.int(near.length)] as number;
      changes.push(`${key}: ${m[key]} -> ${value} (near the target's log edges)`);
      m[key] = value;
    }
  }
}

function mutant(rng: Rng, from: NodeId, to: NodeId, node: RaftNode): { message: RaftMessage; changes: string[] } | null {
  const template = { ...corpus.pick(rng), from, to };
  const { message, changes } = mutate<RaftMessage>(template, { rng, n: 3, pool: corpus.pool, frozen: FROZEN, far: 50 });
  makePlausible(message as unknown as Record<string, unknown>, rng, node, changes);
  return isRaftMessage(message) ? { message, changes } : null;
}

// ------------------------------------------------------------------------------ one seed

function fuzzOne(seed: number): { stepped: number; refused: number } {
  const rng = new SeededRng(seed);
  const c = new TestCluster(3, CONFIG, {}, seed);
  const target = c.ids[rng.int(3)] as NodeId;
  const peers = c.ids.filter((id) => id !== target);
  // A mutated configuration may name replicas that do not exist: the network drops what goes there.
  c.drop = (m) => !c.ids.includes(m.to);
  c.campaign(c.ids[rng.int(3)] as NodeId);
  let stepped = 0;
  let refused = 0;
  let k = 0;
  for (let step = 0; step < MUTANTS_PER_SEED; step++) {
    const leader = c.leader();
    if (leader !== null && rng.chance(0.5)) c.node(leader).propose(new Uint8Array([k++ % 256]));
    if (leader !== null && rng.chance(0.05)) c.node(leader).readIndex(step);
    const m = mutant(rng, peers[rng.int(peers.length)] as NodeId, target, c.node(target));
    if (m === null) refused++;
    else {
      stepped++;
      try {
        c.node(target).step(m.message);
        c.processReady(target); // ready() / advance() keep working
        c.node(target).status();
      } catch (error) {
        throw new FuzzFailure('raft', seed, step, m.message, m.changes, error);
      }
    }
    try {
      c.stabilize();
      if (rng.chance(0.3)) c.tickAll(1 + rng.int(4));
      if (rng.chance(0.1)) compactSome(c, rng);
    } catch (error) {
      throw new FuzzFailure('raft', seed, step, m?.message ?? null, [`while running the cluster after it: ${m?.changes.join('; ') ?? 'refused'}`], error);
    }
  }
  return { stepped, refused };
}

/** Raft §7: a replica snapshots its applied state now and then (as the runtime does). */
function compactSome(c: TestCluster, rng: Rng): void {
  const id = c.ids[rng.int(c.ids.length)] as NodeId;
  const node = c.node(id);
  const applied = c.appliedOf(id);
  const last = applied[applied.length - 1]?.index ?? 0;
  const index = Math.min(last, node.commitIndex);
  if (index > node.snapshotIndex && node.entryAt(index) !== undefined) c.compact(id, index, new Uint8Array(24).fill(index % 256));
}

t.test('fuzz: guard-accepted mutants of peer messages never crash a Raft replica', async (t) => {
  fuzzTest(t, process.env, SEEDS, fuzzOne);
});

t.test('fuzz: the corpus has every Raft message type', async (t) => {
  t.same(corpus.types.sort(), ['AppendEntries', 'AppendEntriesResponse', 'InstallSnapshot', 'InstallSnapshotResponse', 'RequestVote', 'RequestVoteResponse', 'TimeoutNow']);
});
