/**
 * Mutation fuzzing of the Multi-Paxos core (docs/design.md §3.7: a replica never crashes on input from
 * outside). Paxos trusts its peers to follow the protocol (crash faults only), so this checks
 * robustness, not safety: a peer with a bug may send anything the runtime's guard
 * (nodes/multipaxos/message-guard.ts) lets through, and the receiving core must neither throw nor
 * stop producing Readys.
 *
 * 1. A corpus of real messages from a 3-replica TestCluster: elections (P1a/P1b with accepted
 *    pvalues), commands (P2a/P2b, Decision), heartbeats and read rounds, a replica that missed
 *    compacted slots (CatchUp, SnapshotOffer, SnapshotFetch, SnapshotChunk).
 * 2. Per seed one replica is the target; mutants of corpus messages from one of its peers
 *    (protocols/common/sim/mutate.ts: ballots, slots and counters to 0, 2^31, MAX_SAFE_INTEGER, off
 *    by one, near the target's own slots; lists emptied, duplicated, reordered, spliced...),
 *    kept only if the guard accepts them, are stepped into it mid-run between normal traffic.
 * 3. step(), ready() and advance() must never throw.
 *
 * A SnapshotChunk's `data` is not mutated: those bytes are the runtime's state-machine encoding,
 * which the core passes through to the store untouched (the test cluster decodes them as JSON).
 *
 * FUZZ_SEEDS=N (and FUZZ_FROM) run more seeds; FUZZ_SEED=s replays one; FUZZ_ALL=1 prints every
 * failing seed, not just the first three; FUZZ_TRACE=1 prints each mutant as it is stepped.
 */
import t from 'tap';
import { isPaxosMessage } from '../../nodes/multipaxos/message-guard.js';
import { FuzzFailure, fuzzTest, MessageCorpus } from '../common/sim/fuzz-run.js';
import { mutate } from '../common/sim/mutate.js';
import { SeededRng, type Rng } from '../common/rng.js';
import type { MultiPaxosNode } from './paxos-node.js';
import { bytes, TestCluster } from './sim/test-cluster.js';
import type { NodeId, PaxosConfig, PaxosMessage } from './types.js';

const SEEDS = 1000;
const MUTANTS_PER_SEED = 60;
const FROZEN = new Set(['type', 'from', 'to', 'data']);
const CONFIG: Partial<PaxosConfig> = { snapshotEvery: 8 };

// ------------------------------------------------------------------------------ the corpus

function buildCorpus(): PaxosMessage[] {
  const c = new TestCluster(3, 1, CONFIG);
  const sent: PaxosMessage[] = [];
  const record = (): void => {
    for (const id of c.ids) {
      const n = c.nodes.get(id);
      if (n === undefined) continue;
      const original = n.step.bind(n);
      n.step = (m: PaxosMessage): void => {
        sent.push(m);
        original(m);
      };
    }
  };
  record();
  c.elect('n1');
  let k = 0;
  const write = (leader: NodeId, count: number): void => {
    for (let i = 0; i < count; i++) {
      c.node(leader).propose(bytes(`w${k++}`));
      c.settle();
    }
  };
  write('n1', 4);
  c.node('n1').readIndex(1);
  c.tickAll(3);
  // n3 misses more slots than are kept: CatchUp and a snapshot transfer.
  c.crash('n3');
  write('n1', 20);
  c.tickAll(4);
  c.restart('n3');
  record();
  c.tickAll(6);
  // A new leader adopts the accepted pvalues (P1b with accepted).
  c.isolate('n1');
  c.node('n1').propose(bytes('lost'));
  c.settle();
  c.elect('n2');
  write('n2', 3);
  c.healAll();
  c.tickAll(6);
  return sent;
}

const corpus = new MessageCorpus(buildCorpus());

// ------------------------------------------------------------------------------ mutants

/** A slot or round a peer could plausibly name: near the target's own. */
function makePlausible(m: Record<string, unknown>, rng: Rng, node: MultiPaxosNode, changes: string[]): void {
  const near = [1, node.gcSlot, node.gcSlot + 1, node.compactionPoint, node.compactionPoint + 1, node.slotOut - 1, node.slotOut, node.slotOut + 1];
  for (const key of ['slot', 'fromSlot', 'slotOut', 'gcSlot', 'applied', 'compactedTo']) {
    if (typeof m[key] === 'number' && rng.chance(0.3)) {
      const value = Math.max(key === 'applied' || key === 'gcSlot' || key === 'compactedTo' ? 0 : 1, near[rng.int(near.length)] as number);
      changes.push(`${key}: ${m[key]} -> ${value} (near the target's slots)`);
      m[key] = value;
    }
  }
  for (const key of ['ballot', 'ballotNum', 'request']) {
    const b = m[key] as { round: number; leader: string } | undefined;
    if (b !== undefined && rng.chance(0.3)) {
      const round = node.ballotNum.round + rng.int(2);
      changes.push(`${key}.round: ${b.round} -> ${round} (the target's round${round > node.ballotNum.round ? ' + 1' : ''})`);
      m[key] = { ...b, round };
    }
  }
}

function mutant(rng: Rng, from: NodeId, to: NodeId, node: MultiPaxosNode): { message: PaxosMessage; changes: string[] } | null {
  const template = { ...corpus.pick(rng), from, to };
  const { message, changes } = mutate<PaxosMessage>(template, { rng, n: 3, pool: corpus.pool, frozen: FROZEN, far: 50 });
  makePlausible(message as unknown as Record<string, unknown>, rng, node, changes);
  return isPaxosMessage(message) ? { message, changes } : null;
}

// ------------------------------------------------------------------------------ one seed

function fuzzOne(seed: number): { stepped: number; refused: number } {
  const rng = new SeededRng(seed);
  const c = new TestCluster(3, seed, CONFIG);
  const target = c.ids[rng.int(3)] as NodeId;
  const peers = c.ids.filter((id) => id !== target);
  c.elect(c.ids[rng.int(3)] as NodeId);
  let stepped = 0;
  let refused = 0;
  let k = 0;
  for (let step = 0; step < MUTANTS_PER_SEED; step++) {
    const leader = c.ids.find((id) => c.node(id).role === 'leader');
    if (leader !== undefined && rng.chance(0.5)) c.node(leader).propose(bytes(`f${k++}`));
    if (leader !== undefined && rng.chance(0.05)) c.node(leader).readIndex(step);
    const m = mutant(rng, peers[rng.int(peers.length)] as NodeId, target, c.node(target));
    if (m === null) refused++;
    else {
      if (process.env['FUZZ_TRACE'] !== undefined) console.log(`mutant ${step}: ${m.changes.join('; ')}`);
      stepped++;
      try {
        c.node(target).step(m.message);
        c.cycle(target); // ready() / advance() keep working
        c.node(target).status();
      } catch (error) {
        throw new FuzzFailure('multipaxos', seed, step, m.message, m.changes, error);
      }
    }
    try {
      c.settle();
      if (rng.chance(0.3)) c.tickAll(1 + rng.int(4));
    } catch (error) {
      throw new FuzzFailure('multipaxos', seed, step, m?.message ?? null, [`while running the cluster after it: ${m?.changes.join('; ') ?? 'refused'}`], error);
    }
  }
  return { stepped, refused };
}

t.test('fuzz: guard-accepted mutants of peer messages never crash a Multi-Paxos replica', async (t) => {
  fuzzTest(t, process.env, SEEDS, fuzzOne);
});

t.test('fuzz: the corpus has every Multi-Paxos message type', async (t) => {
  t.same(corpus.types.sort(), ['CatchUp', 'Decision', 'Heartbeat', 'HeartbeatAck', 'P1a', 'P1b', 'P2a', 'P2b', 'SnapshotChunk', 'SnapshotFetch', 'SnapshotOffer']);
});
