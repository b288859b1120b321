/**
 * Mutation fuzzing of the PBFT core against an authenticated Byzantine replica (docs/design.md §3.7: a
 * replica never crashes on input from outside; OSDI §2: up to f replicas may send anything).
 *
 * 1. A corpus of real messages: a 4-replica TestCluster runs requests, read-only requests, a
 *    replica that falls behind (Fetch, state transfer), and a view change with prepared but
 *    uncommitted batches (ViewChange, NewView); FetchBatches / Batches are built from its log.
 * 2. Per seed one replica is Byzantine. It takes corpus messages, claims them as its own, changes
 *    one to three fields (protocols/common/sim/mutate.ts), keeps only what the runtime's message
 *    guard (nodes/pbft/message-guard.ts) accepts, and re-authenticates the mutant with its own
 *    keys (MAC or signature, and re-signs the Checkpoints / ViewChanges inside it that it claims
 *    as its own), as byzantine.ts does: the mutant reaches the core's logic, not just the MAC.
 * 3. The mutants go to one correct replica in the middle of a run, interleaved with normal
 *    traffic, ticks and a view change. step(), ready() and advance() must never throw, and at
 *    the end the cluster must still agree (no two replicas execute different batches at one n).
 *
 * FUZZ_SEEDS=2000 (and FUZZ_FROM) run more seeds; FUZZ_SEED=s replays one; a failure prints the
 * seed, the mutant and what threw.
 */
import t from 'tap';
import { FuzzFailure, fuzzTest, MessageCorpus } from '../common/sim/fuzz-run.js';
import { deepCopy, mutate } from '../common/sim/mutate.js';
import { SeededRng, type Rng } from '../common/rng.js';
import { PbftMessageGuard } from '../../nodes/pbft/message-guard.js';
import { Authenticator } from './auth.js';
import { batchDigest } from './canonical.js';
import { TestCluster } from './sim/test-cluster.js';
import type { PbftReplica } from './pbft-replica.js';
import type { Batch, BatchEntry, PbftMessage, PbftStatus } from './types.js';

const N = 4;
const SEEDS = 400;
const MUTANTS_PER_SEED = 60;
const guard = new PbftMessageGuard(N);
const FROZEN = new Set(['type', 'auth']);
/** Every cluster shares one key ring (SimKeyRing seed), so signatures in the corpus verify everywhere. */
const KEY_SEED = 1;

// ------------------------------------------------------------------------------ the corpus

function buildCorpus(): { corpus: PbftMessage[]; disks: Array<Map<string, unknown>> } {
  const c = new TestCluster(N, {}, new Map(), KEY_SEED);
  let seq = 0;
  const put = (at: number): void => {
    const s = ++seq;
    c.replicas[at]?.submit(c.request(`c${at}`, s, `k${s % 5}`, `v${s}`, at));
  };
  for (let k = 0; k < 6; k++) {
    put(k % N);
    c.run();
  }
  c.replicas[1]?.readOnly({ clientId: 'r', seq: 1, operation: { op: 'get', key: 'k1' }, origin: 1 });
  c.run();
  // Replica 3 falls behind by more than a window: Fetch, FetchReply, FetchMeta, Meta, FetchPartitions, PartitionChunk.
  c.down.add(3);
  for (let k = 0; k < 20; k++) {
    put(k % 3);
    c.run();
  }
  c.restart(3);
  c.tick(20);
  // Batches prepared but not committed when the primary fails: ViewChange P/Q sets, NewView.
  // Four view changes, so every replica is the primary of some NewView in the corpus.
  for (let v = 0; v < N; v++) {
    const primary = v % N;
    const other = (primary + 1) % N;
    c.filter = (e) => e.message.type !== 'Commit';
    put(other);
    put((other + 1) % N);
    c.run();
    c.down.add(primary);
    put(other);
    for (let k = 0; k < 300 && c.cores[other]?.status().view === v; k++) c.tick();
    c.filter = () => true;
    c.tick(30);
    c.restart(primary);
    c.tick(30);
  }
  const corpus = c.sent.map((e) => e.message);
  // FetchBatches / Batches (TOCS §4.5), from the pre-prepares seen.
  const entries: BatchEntry[] = [];
  for (const m of corpus) if (m.type === 'PrePrepare' && m.batch.length > 0 && entries.length < 8) entries.push({ sequence: m.sequence, digest: m.digest, batch: m.batch });
  const auth = new Uint8Array(0);
  corpus.push({ type: 'FetchBatches', wanted: entries.map((e) => ({ sequence: e.sequence, digest: e.digest })), replica: 1, auth });
  corpus.push({ type: 'Batches', entries, replica: 1, auth });
  return { corpus, disks: c.disks };
}

const built = buildCorpus();
const disks = built.disks;
// Types drawn uniformly, so the rarer ones count: otherwise Prepares and Commits would be most of the mutants.
const corpus = new MessageCorpus(built.corpus);

/**
 * A corpus message to start from. A Byzantine primary's own messages (PrePrepare, NewView) are
 * only looked at when they come from the primary of their view, so those are mostly drawn from
 * the views `byz` leads.
 */
function pickTemplate(rng: Rng, byz: number): PbftMessage {
  const list = corpus.randomTypeList(rng);
  const led = list.filter((m) => 'view' in m && (m.type === 'PrePrepare' || m.type === 'NewView') && m.view % N === byz);
  if (led.length > 0 && rng.chance(0.7)) return led[rng.int(led.length)] as PbftMessage;
  return list[rng.int(list.length)] as PbftMessage;
}

// ------------------------------------------------------------------------------ the Byzantine sender

/** Re-signs, bottom up, every Checkpoint / ViewChange inside `m` that claims to be the Byzantine replica's. */
function resignOwn(value: unknown, byz: number, auth: Authenticator): unknown {
  if (Array.isArray(value)) return value.map((v) => resignOwn(v, byz, auth));
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = resignOwn(v, byz, auth);
  if ((out['type'] === 'Checkpoint' || out['type'] === 'ViewChange') && out['replica'] === byz && guard.check(out)) {
    return auth.sign(out as unknown as PbftMessage);
  }
  return out;
}

/** A guard-accepted mutant claimed by `byz`, authenticated for `to` with byz's own keys. */
/**
 * What a smart Byzantine sender adds to a blind mutation: it knows the receiver's view, and it
 * can compute the digest of any batch it sends (so the digest check is passed, not just hit).
 */
function makePlausible(m: Record<string, unknown>, rng: Rng, at: PbftStatus, stableDigest: string | null, digest: Digester, changes: string[]): void {
  if (typeof m['view'] === 'number' && m['view'] !== at.view && rng.chance(0.5)) {
    changes.push(`view: ${m['view']} -> ${at.view} (the receiver's view)`);
    m['view'] = at.view;
  }
  if (typeof m['sequence'] === 'number' && rng.chance(0.5)) {
    const near = [at.lastStableCheckpoint, at.lastExecuted, at.lastExecuted + 1, at.highWatermark, at.highWatermark + 1];
    const n = rng.chance(0.5) ? (near[rng.int(near.length)] as number) : at.lowWatermark + rng.int(at.highWatermark - at.lowWatermark + 2);
    changes.push(`sequence: ${m['sequence']} -> ${n} (near the receiver's watermarks)`);
    m['sequence'] = n;
    if (n === at.lastStableCheckpoint && typeof m['digest'] === 'string' && stableDigest !== null && rng.chance(0.5)) {
      changes.push("digest: the receiver's stable checkpoint digest");
      m['digest'] = stableDigest;
    }
  }
  if (typeof m['h'] === 'number' && rng.chance(0.3)) {
    changes.push(`h: ${m['h']} -> ${at.lastStableCheckpoint} (the receiver's h)`);
    m['h'] = at.lastStableCheckpoint;
  }
  if (!rng.chance(0.5)) return;
  if (m['type'] === 'PrePrepare' && Array.isArray(m['batch'])) m['digest'] = digest(m['batch'] as Batch);
  for (const key of ['batches', 'entries']) {
    const list = m[key];
    if (Array.isArray(list)) for (const e of list as Array<Record<string, unknown>>) if (Array.isArray(e['batch'])) e['digest'] = digest(e['batch'] as Batch);
  }
  changes.push('digests recomputed to match the batches');
}

type Digester = (batch: Batch) => string;

function byzantineMutant(rng: Rng, byz: number, to: number, auth: Authenticator, at: PbftStatus, stableDigest: string | null, digest: Digester): { message: PbftMessage; changes: string[] } | null {
  const template = { ...pickTemplate(rng, byz), replica: byz };
  const { message, changes } = mutate<PbftMessage>(template, { rng, n: N, pool: corpus.pool, frozen: FROZEN, far: 64 });
  const top = { ...(message as unknown as Record<string, unknown>) };
  if (!guard.check(top)) return null; // the runtime drops it before the core sees it
  makePlausible(top, rng, at, stableDigest, digest, changes);
  const inner = resignOwn(top, byz, auth) as Record<string, unknown>;
  if (!guard.check(inner)) return null;
  const sealed = auth.seal(inner as unknown as PbftMessage, [to])[0];
  if (sealed === undefined || !guard.check(sealed.message)) return null;
  return { message: sealed.message, changes };
}

// ------------------------------------------------------------------------------ one seed

/**
 * A cluster that continues the corpus's history: same keys, every replica restored from the
 * corpus run's disk (TOCS §4.6). The signed Checkpoints and ViewChanges in the corpus are then
 * ones these correct replicas really sent; replaying them is what a Byzantine replica can do.
 * (A fresh cluster with the same keys would let old signatures vouch for states that the correct
 * replicas never had: more than f faults.)
 */
function resumeCorpusCluster(): TestCluster {
  const c = new TestCluster(N, {}, new Map(), KEY_SEED);
  for (let i = 0; i < N; i++) {
    c.disks[i] = deepCopy(disks[i] as Map<string, unknown>);
    c.restart(i);
  }
  return c;
}

function fuzzOne(seed: number): { stepped: number; refused: number; authenticated: number } {
  const rng = new SeededRng(seed);
  const c = resumeCorpusCluster();
  // Half the seeds, the Byzantine replica is the primary: its PrePrepares and NewViews count.
  const byz = rng.chance(0.5) ? (c.cores[0] as PbftReplica).status().primary : rng.int(N);
  const target = (byz + 1 + rng.int(N - 1)) % N;
  const auth = new Authenticator(c.crypto(byz), c.config(byz).authentication);
  const crypto = c.crypto(byz);
  const digest: Digester = (batch) => batchDigest(batch, (bytes) => crypto.digest(bytes));
  const correct = [...Array(N).keys()].filter((k) => k !== byz);
  let seq = 0;
  const put = (): void => {
    const at = correct[rng.int(correct.length)] as number;
    const s = ++seq;
    c.replicas[at]?.submit(c.request(`fuzz${at}`, s, `k${s % 7}`, `v${s}`, at));
  };
  for (let k = 0; k < 5; k++) put();
  c.run();
  if (rng.chance(0.3)) {
    // The target missed more than a window (OSDI §4.3): the mutants meet it catching up (TOCS §6.2).
    c.down.add(target);
    for (let k = 0; k < 12; k++) {
      put();
      c.run();
    }
    c.restart(target);
    c.pumpAll();
  }
  // In half of the seeds a correct primary fails mid-run, so mutants also meet a view change.
  const crashAt = rng.chance(0.5) ? rng.int(MUTANTS_PER_SEED) : -1;
  let crashed = -1;
  let stepped = 0;
  let refused = 0;
  let authenticated = 0;
  for (let step = 0; step < MUTANTS_PER_SEED; step++) {
    if (step === crashAt) {
      const primary = (c.cores[target]?.status().primary ?? 0) as number;
      if (primary !== target && primary !== byz) {
        crashed = primary;
        c.down.add(primary);
      }
    }
    if (rng.chance(0.4)) put();
    const core = c.cores[target] as PbftReplica;
    const at = core.status();
    const mutant = byzantineMutant(rng, byz, target, auth, at, core.checkpointDigest(at.lastStableCheckpoint), digest);
    if (mutant === null) {
      refused++;
    } else {
      stepped++;
      const before = c.cores[target]?.status();
      try {
        c.replicas[target]?.step(byz, mutant.message);
        const after = c.cores[target]?.status();
        if (after !== undefined && before !== undefined && after.rejectedAuth === before.rejectedAuth) {
          authenticated++;
          if (after.rejectedInvalid === before.rejectedInvalid) reached.set(mutant.message.type, (reached.get(mutant.message.type) ?? 0) + 1);
        }
        c.pump(target); // ready() / advance() keep working
        c.replicas[target]?.status();
      } catch (error) {
        throw new FuzzFailure('pbft', seed, step, mutant.message, mutant.changes, error);
      }
    }
    try {
      c.run(2_000);
      if (rng.chance(0.3)) c.tick(1 + rng.int(3));
    } catch (error) {
      throw new FuzzFailure('pbft', seed, step, mutant?.message ?? null, [`while delivering normal traffic after it: ${mutant?.changes.join('; ') ?? 'refused'}`], error);
    }
  }
  if (crashed >= 0) c.restart(crashed);
  c.tick(40);
  checkAgreement(c, seed);
  return { stepped, refused, authenticated };
}

/** Mutants per type that passed authentication and no early rule check (diagnostics). */
const reached = new Map<string, number>();

/** OSDI §4.5.1 safety: no two replicas executed different batches at one n. */
function checkAgreement(c: TestCluster, seed: number): void {
  const top = Math.max(...c.cores.map((r) => r.status().lastExecuted));
  for (let n = 1; n <= top; n++) {
    const digests = new Set(c.cores.map((r) => r.executedAt(n)).filter((d) => d !== null));
    if (digests.size > 1) throw new Error(`pbft fuzz seed ${seed}: replicas executed different batches at n=${n}`);
  }
}

t.test(`fuzz: a Byzantine replica's guard-accepted, authenticated mutants never crash a correct replica`, async (t) => {
  const totals = fuzzTest(t, process.env, SEEDS, fuzzOne);
  t.ok(totals.authenticated > totals.stepped / 2, `${totals.authenticated} passed authentication (re-sealed by the Byzantine sender)`);
  t.comment(`past authentication and the early rule checks: ${[...reached].map(([k, v]) => `${k} ${v}`).join(', ')}`);
});

t.test('fuzz: the corpus has every PBFT message type', async (t) => {
  t.same(corpus.types.sort(), ['Batches', 'Checkpoint', 'Commit', 'Fetch', 'FetchBatches', 'FetchMeta', 'FetchPartitions', 'FetchReply', 'Meta', 'NewView', 'PartitionChunk', 'PrePrepare', 'Prepare', 'ReadReply', 'ReadRequest', 'Reply', 'Request', 'ViewChange']);
});
