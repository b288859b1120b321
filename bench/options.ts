/** Command-line flags of `npm run bench` (see bench/README.md). */
import { parseArgs } from 'node:util';
import type { Distribution } from './keyspace.js';
import { workloads, type Workload } from './requests.js';
import { etcdBinary } from './systems/etcd.js';
import { systemNames } from './systems/registry.js';

/** Where the load goes: the leader, one follower, or spread over every replica. */
export type Target = 'leader' | 'follower' | 'any';
export const targets: readonly Target[] = ['leader', 'follower', 'any'];

export interface BenchOptions {
  systems: string[];
  workloads: Workload[];
  readRatio: number;
  connections: number[];
  durationS: number;
  warmupS: number;
  /** Measured runs per cell within one start of the system; the median one is reported. */
  repetitions: number;
  /**
   * Times the whole matrix runs, interleaved: round 1 starts every system once, then round 2
   * does it again, and so on (bench/rounds.ts); each cell reports its median round.
   */
  rounds: number;
  valueBytes: number;
  keys: number;
  distribution: Distribution;
  rate: number | null;
  nodes: number;
  /** Where the connections go; every target is a column of the matrix. */
  targets: Target[];
  failover: boolean;
  /** Write rate of the failover run (requests per second). */
  failoverRate: number;
  quick: boolean;
  out: string;
  /** Per-request timeout of the load generator. */
  timeoutS: number;
  /** Soak mode: sample every replica while each measured round runs (bench/README.md, "Soak mode"). */
  soak: boolean;
  /** Soak mode: length of a throughput window. */
  windowS: number;
  /** Preload requests in flight at once. */
  preloadConcurrency: number;
  /** Where the preload's writes go: the leader, or round robin over every replica. */
  preloadVia: 'leader' | 'any';
}

export const usage = `usage: npm run bench -- [flags]
  --systems LIST        ${systemNames.join(',')} (default raft,single,hello, plus etcd when on PATH)
  --workload LIST       ${workloads.join(',')} or none (default: all)
  --read-ratio R        reads in the mixed workload (default 0.9)
  --connections LIST    concurrent connections (default 1,100)
  --duration S          measured seconds per cell (default 20)
  --warmup S            unmeasured seconds before each cell (default 3)
  --repetitions N       measured runs per cell within one start of the system, median reported (default 1)
  --rounds N            run the whole matrix N times, interleaved, each time on freshly started
                        systems; every cell reports its median round (default 1)
  --value-bytes N       value size (default 256)
  --keys N              key space (default 10000)
  --distribution D      uniform | zipfian (default uniform)
  --rate N              fixed overall request rate (default: as fast as it goes)
  --nodes N             replicas of each replicated system (default 3)
  --target LIST         leader,follower,any (default leader): where the connections go, one cell
                        per target; follower is one replica that is not the leader (a PBFT
                        backup, an etcd follower), any spreads them over every replica
  --failover            also run the failover experiment (leader killed under constant write load)
  --failover-rate N     write rate of the failover run (default 200/s)
  --quick               a few seconds of everything (smoke test)
  --soak                soak mode: preload every key, then sample every replica (throughput per
                        window, leader changes, event-loop lag, RSS) during one long round; defaults
                        become --duration 600 --keys 1000000 --connections 100 --workload put
  --window S            soak window (default 10)
  --preload-concurrency N  preload requests in flight (default 128)
  --preload-via T       leader | any: where the preload writes go (default leader)
  --out DIR             results root (default bench/results)`;

const quickDefaults = { duration: 2, warmup: 0.5, connections: '1,8', keys: 1000 };
/** The soak: 10 minutes, a million keys, 100 connections of puts. */
const soakDefaults = { duration: 600, connections: '100', keys: 1_000_000, workload: 'put' };

export function parseOptions(argv: string[], env: { etcdOnPath?: boolean } = {}): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      systems: { type: 'string' },
      workload: { type: 'string' },
      workloads: { type: 'string' },
      'read-ratio': { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      repetitions: { type: 'string' },
      rounds: { type: 'string' },
      'value-bytes': { type: 'string' },
      keys: { type: 'string' },
      distribution: { type: 'string' },
      rate: { type: 'string' },
      nodes: { type: 'string' },
      target: { type: 'string' },
      failover: { type: 'boolean', default: false },
      'failover-rate': { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      timeout: { type: 'string' },
      soak: { type: 'boolean', default: false },
      window: { type: 'string' },
      'preload-concurrency': { type: 'string' },
      'preload-via': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new UsageError(usage);
  const quick = values.quick;
  const soak = values.soak;
  // Explicit flags win over --soak's defaults, which win over --quick's.
  const pick = <T>(soakValue: T, quickValue: T, plain: T): T => (soak ? soakValue : quick ? quickValue : plain);
  const etcdOnPath = env.etcdOnPath ?? etcdBinary() !== null;
  const systems = list(values.systems ?? ['raft', 'single', 'hello', ...(etcdOnPath ? ['etcd'] : [])].join(','));
  for (const s of systems) if (!systemNames.includes(s)) throw new UsageError(`unknown system '${s}' (known: ${systemNames.join(', ')})`);
  const workloadText = values.workload ?? values.workloads ?? (soak ? soakDefaults.workload : workloads.join(','));
  const chosen = workloadText === 'none' ? [] : list(workloadText);
  for (const w of chosen) if (!(workloads as readonly string[]).includes(w)) throw new UsageError(`unknown workload '${w}' (known: ${workloads.join(', ')})`);
  const distribution = values.distribution ?? 'uniform';
  if (distribution !== 'uniform' && distribution !== 'zipfian') throw new UsageError(`--distribution must be uniform or zipfian`);
  const chosenTargets = distinctList(values.target ?? 'leader');
  for (const t of chosenTargets) if (!(targets as readonly string[]).includes(t)) throw new UsageError(`--target: '${t}' is not one of ${targets.join(', ')}`);
  if (chosenTargets.length === 0) throw new UsageError('--target: give at least one of leader, follower, any');
  const preloadVia = values['preload-via'] ?? 'leader';
  if (preloadVia !== 'leader' && preloadVia !== 'any') throw new UsageError(`--preload-via must be leader or any`);
  const connections = list(values.connections ?? pick(soakDefaults.connections, quickDefaults.connections, '1,100')).map((c) => int(c, '--connections', 1));
  const options: BenchOptions = {
    systems,
    workloads: chosen as Workload[],
    readRatio: num(values['read-ratio'] ?? '0.9', '--read-ratio', 0, 1),
    connections,
    durationS: num(values.duration ?? String(pick(soakDefaults.duration, quickDefaults.duration, 20)), '--duration', 0.1),
    warmupS: num(values.warmup ?? String(quick ? quickDefaults.warmup : 3), '--warmup', 0),
    repetitions: int(values.repetitions ?? '1', '--repetitions', 1),
    rounds: int(values.rounds ?? '1', '--rounds', 1),
    valueBytes: int(values['value-bytes'] ?? '256', '--value-bytes', 1),
    keys: int(values.keys ?? String(pick(soakDefaults.keys, quickDefaults.keys, 10_000)), '--keys', 1),
    distribution,
    rate: values.rate === undefined ? null : num(values.rate, '--rate', 1),
    nodes: int(values.nodes ?? '3', '--nodes', 1),
    targets: chosenTargets as Target[],
    failover: values.failover,
    failoverRate: num(values['failover-rate'] ?? '200', '--failover-rate', 1),
    quick,
    out: values.out ?? 'bench/results',
    timeoutS: num(values.timeout ?? '10', '--timeout', 0.1),
    soak,
    windowS: num(values.window ?? '10', '--window', 0.5),
    preloadConcurrency: int(values['preload-concurrency'] ?? '128', '--preload-concurrency', 1),
    preloadVia,
  };
  if (soak && options.windowS > options.durationS) throw new UsageError(`--window ${options.windowS} is longer than --duration ${options.durationS}: a soak needs at least one window`);
  if (!soak && values.window !== undefined) throw new UsageError('--window needs --soak');
  if (options.workloads.length === 0 && !options.failover) throw new UsageError('nothing to run: --workload none without --failover');
  return options;
}

export class UsageError extends Error {}

function list(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** A list with repeats dropped (`--target leader,leader` is one target), in the order given. */
function distinctList(s: string): string[] {
  return [...new Set(list(s))];
}

function num(s: string, flag: string, min: number, max = Infinity): number {
  const v = Number(s);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`${flag}: '${s}' is not a number in [${min}, ${max}]`);
  return v;
}

function int(s: string, flag: string, min: number): number {
  const v = num(s, flag, min);
  if (!Number.isInteger(v)) throw new UsageError(`${flag}: '${s}' is not an integer`);
  return v;
}
