/** The shape of bench/results/<time>/results.json: one object per measured cell (issue 7 §4). */
import type { Distribution } from './keyspace.js';
import type { Workload } from './requests.js';
import type { Target } from './options.js';

export interface CellCpu {
  /** CPU seconds (user, system) of the system's processes during the measured round. */
  systemUserS: number;
  systemSysS: number;
  /** Mean cores the system kept busy (CPU seconds / wall seconds). */
  systemCores: number;
  /** The system's CPU milliseconds per successful request. */
  systemMsPerRequest: number | null;
  /** The same for the load generator process (it shares the machine). */
  loadgenUserS: number;
  loadgenSysS: number;
  loadgenCores: number;
}

/** One round of a cell (bench/rounds.ts): when it ran and what it measured. */
export interface CellRound {
  /** 1-based round of the matrix (`--rounds`). */
  round: number;
  /** 1-based position, in the whole run, of the system start this round measured on. */
  sequence: number;
  /** When the round's measured run(s) started. */
  startedAt: string;
  /** The round's req/s: the median of its repetitions. */
  rps: number;
}

export interface BenchCell {
  system: string;
  nodes: number;
  workload: Workload;
  connections: number;
  valueBytes: number;
  durationS: number;
  /** Mean successful (2xx) requests per second over the measured round. */
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  cpu: CellCpu;
  /** From /metrics before/after: log entries per fsync, summed over replicas (group commit). */
  entriesPerFsync: number | null;
  /** From /metrics before/after: peer messages sent by all replicas per successful request. */
  peerMessagesPerRequest: number | null;
  /** Successful requests in the measured round. */
  requests: number;
  readRatio: number | null;
  keys: number;
  distribution: Distribution;
  target: Target;
  /** Fixed overall request rate, or null when unthrottled. */
  rate: number | null;
  /** req/s of every measured run of the cell, in the order they ran: round 1's repetitions first. */
  rpsRuns: number[];
  /** The round whose numbers the cell reports: the one with the median req/s. */
  round: number;
  /** Every round of the cell, in round order. */
  rounds: CellRound[];
  latencySource: 'samples' | 'autocannon';
  statusCodes: Record<string, number>;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);

/** The problems with a parsed results.json (empty when it has the documented shape). */
export function validateResults(value: unknown): string[] {
  if (!Array.isArray(value)) return ['results.json is not an array'];
  const problems: string[] = [];
  value.forEach((cell: unknown, i) => {
    const at = (what: string): void => void problems.push(`cell ${i}: ${what}`);
    if (typeof cell !== 'object' || cell === null) return at('not an object');
    const c = cell as Record<string, unknown>;
    for (const k of ['system', 'workload', 'target']) if (typeof c[k] !== 'string') at(`${k} is not a string`);
    for (const k of ['nodes', 'connections', 'valueBytes', 'durationS', 'rps', 'errors', 'non2xx', 'requests']) {
      if (!isNum(c[k])) at(`${k} is not a number`);
    }
    const lat = c['latencyMs'] as Record<string, unknown> | undefined;
    if (typeof lat !== 'object' || lat === null) at('latencyMs missing');
    else for (const k of ['p50', 'p90', 'p99', 'max']) if (!isNum(lat[k])) at(`latencyMs.${k} is not a number`);
    const cpu = c['cpu'] as Record<string, unknown> | undefined;
    if (typeof cpu !== 'object' || cpu === null) at('cpu missing');
    else for (const k of ['systemUserS', 'systemSysS', 'systemCores', 'loadgenUserS', 'loadgenSysS', 'loadgenCores']) {
      if (!isNum(cpu[k])) at(`cpu.${k} is not a number`);
    }
    for (const k of ['entriesPerFsync', 'peerMessagesPerRequest']) if (!isNumOrNull(c[k])) at(`${k} is not a number or null`);
    const runs = c['rpsRuns'];
    if (!Array.isArray(runs) || runs.length === 0 || !runs.every(isNum)) at('rpsRuns is not a non-empty array of numbers');
    const rounds = c['rounds'];
    if (!Array.isArray(rounds) || rounds.length === 0) at('rounds is not a non-empty array');
    else {
      rounds.forEach((r: Record<string, unknown>, j) => {
        for (const k of ['round', 'sequence', 'rps']) if (!isNum(r[k])) at(`rounds[${j}].${k} is not a number`);
        if (typeof r['startedAt'] !== 'string') at(`rounds[${j}].startedAt is not a string`);
      });
      if (!rounds.some((r: Record<string, unknown>) => r['round'] === c['round'])) at('round is not one of rounds');
    }
  });
  return problems;
}
