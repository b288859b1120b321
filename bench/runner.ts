/**
 * Runs the benchmark matrix: for each system and workload a fresh system, a preload when the
 * workload reads, then for each connection count a warm-up round and the measured rounds, with
 * CPU from /proc and counters from /metrics around each measured round.
 */
import { isShuttingDown } from './cleanup.js';
import { analyzeFailover, type FailoverReport } from './failover.js';
import { median } from './latency-samples.js';
import type { LoadGenerator } from './load-client.js';
import type { RunResult, RunSpec } from './load-protocol.js';
import type { BenchOptions } from './options.js';
import { cpuDelta, processCpu, totalCpu } from './proc-cpu.js';
import { deriveMetrics } from './prom-metrics.js';
import { needsPreload, type Workload } from './requests.js';
import type { BenchCell } from './results.js';
import { systemDefinition } from './systems/registry.js';
import type { RunningSystem } from './systems/types.js';

export interface RunNote {
  system: string;
  workload?: Workload | 'failover';
  note: string;
}

export interface BenchOutcome {
  cells: BenchCell[];
  failover: FailoverReport[];
  /** Systems skipped (not installed) and cells that failed, with why. */
  notes: RunNote[];
}

export type Log = (line: string) => void;

export async function runBench(options: BenchOptions, load: LoadGenerator, log: Log, logDir?: string): Promise<BenchOutcome> {
  const outcome: BenchOutcome = { cells: [], failover: [], notes: [] };
  for (const name of options.systems) {
    const def = systemDefinition(name);
    const why = await def.unavailable();
    if (why !== null) {
      log(`skipping ${name}: ${why}`);
      outcome.notes.push({ system: name, note: `skipped: ${why}` });
      continue;
    }
    for (const workload of options.workloads) {
      await withSystem(name, options, log, outcome, workload, logDir, async (sys) => {
        if (needsPreload(workload)) {
          const p = await load.preload({ url: sys.targetUrl, dialect: sys.dialect, keys: options.keys, valueBytes: options.valueBytes, concurrency: 32 });
          log(`  ${name}: preloaded ${p.written} keys in ${p.ms} ms`);
        }
        for (const connections of options.connections) {
          const cell = await measureCell(sys, workload, connections, options, load);
          log(`  ${formatCellLine(cell)}`);
          outcome.cells.push(cell);
        }
      });
    }
    if (options.failover && !def.failover) {
      outcome.notes.push({ system: name, workload: 'failover', note: 'no failover run: no leader to kill' });
    } else if (options.failover) {
      await withSystem(name, options, log, outcome, 'failover', logDir, async (sys) => {
        if (sys.killLeader === undefined || sys.urls.length < 2) {
          outcome.notes.push({ system: name, workload: 'failover', note: 'no failover: the system has no leader to kill' });
          return;
        }
        const report = await runFailover(sys, options, load);
        log(`  ${name} failover: killed ${report.killedReplica}, first write acknowledged ${report.recoveryMs ?? 'never'} ms after the kill`);
        outcome.failover.push(report);
      });
    }
  }
  return outcome;
}

async function withSystem(
  name: string,
  options: BenchOptions,
  log: Log,
  outcome: BenchOutcome,
  workload: Workload | 'failover',
  logDir: string | undefined,
  body: (sys: RunningSystem) => Promise<void>,
): Promise<void> {
  if (isShuttingDown()) return;
  log(`${name}: starting (${workload})`);
  let sys: RunningSystem | undefined;
  try {
    sys = await systemDefinition(name).start({ nodes: options.nodes, ...(logDir === undefined ? {} : { logDir }) });
    await body(sys);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${name} (${workload}) failed: ${message}`);
    outcome.notes.push({ system: name, workload, note: `failed: ${message}` });
  } finally {
    await sys?.stop();
  }
}

export async function measureCell(sys: RunningSystem, workload: Workload, connections: number, options: BenchOptions, load: LoadGenerator): Promise<BenchCell> {
  const spec: RunSpec = {
    urls: options.target === 'any' ? sys.urls : [sys.targetUrl],
    dialect: sys.dialect,
    workload,
    readRatio: options.readRatio,
    connections,
    durationS: options.warmupS,
    valueBytes: options.valueBytes,
    keys: options.keys,
    distribution: options.distribution,
    rate: options.rate,
    timeoutS: options.timeoutS,
  };
  if (options.warmupS > 0) await load.run(spec);
  const runs: BenchCell[] = [];
  for (let i = 0; i < options.repetitions; i++) runs.push(await measuredRound(sys, { ...spec, durationS: options.durationS }, options, load));
  const rpsRuns = runs.map((r) => r.rps);
  const mid = median(rpsRuns);
  // The repetition closest to the median rps stands for the cell (all its numbers belong together).
  const chosen = runs.reduce((best, r) => (Math.abs(r.rps - mid) < Math.abs(best.rps - mid) ? r : best));
  return { ...chosen, rpsRuns };
}

async function measuredRound(sys: RunningSystem, spec: RunSpec, options: BenchOptions, load: LoadGenerator): Promise<BenchCell> {
  const countersBefore = await sys.readCounters();
  const sysCpuBefore = totalCpu(sys.pids());
  const loadCpuBefore = processCpu(load.pid);
  const result: RunResult = await load.run(spec);
  const sysCpu = cpuDelta(sysCpuBefore, totalCpu(sys.pids()));
  const loadCpu = cpuDelta(loadCpuBefore, processCpu(load.pid));
  const countersAfter = await sys.readCounters();
  const durationS = result.durationS > 0 ? result.durationS : spec.durationS;
  const derived = deriveMetrics(countersBefore, countersAfter, result.ok);
  const sysCpuS = sysCpu.userS + sysCpu.systemS;
  return {
    system: sys.name,
    nodes: sys.nodes,
    workload: spec.workload,
    connections: spec.connections,
    valueBytes: spec.valueBytes,
    durationS,
    rps: result.ok / durationS,
    latencyMs: { p50: result.latencyMs.p50, p90: result.latencyMs.p90, p99: result.latencyMs.p99, max: result.latencyMs.max },
    errors: result.errors,
    non2xx: result.non2xx,
    cpu: {
      systemUserS: sysCpu.userS,
      systemSysS: sysCpu.systemS,
      systemCores: sysCpuS / durationS,
      systemMsPerRequest: result.ok === 0 ? null : (sysCpuS * 1000) / result.ok,
      loadgenUserS: loadCpu.userS,
      loadgenSysS: loadCpu.systemS,
      loadgenCores: (loadCpu.userS + loadCpu.systemS) / durationS,
    },
    entriesPerFsync: derived.entriesPerFsync,
    peerMessagesPerRequest: derived.peerMessagesPerRequest,
    requests: result.ok,
    readRatio: spec.workload === 'mixed' ? spec.readRatio : null,
    keys: spec.keys,
    distribution: spec.distribution,
    target: options.target,
    rate: spec.rate,
    rpsRuns: [],
    latencySource: result.latencySource,
    statusCodes: result.statusCodes,
  };
}

async function runFailover(sys: RunningSystem, options: BenchOptions, load: LoadGenerator): Promise<FailoverReport> {
  const durationS = Math.max(options.durationS, 4);
  const ratePerS = options.rate ?? options.failoverRate;
  const running = load.failover({
    urls: sys.urls,
    dialect: sys.dialect,
    ratePerS,
    durationS,
    valueBytes: options.valueBytes,
    keys: options.keys,
    timeoutMs: 2000,
    maxInflight: 1000,
  });
  await new Promise((r) => setTimeout(r, (durationS * 1000) / 2));
  const killed = await sys.killLeader!();
  const result = await running;
  return analyzeFailover(result, killed.killedAtMs, { system: sys.name, nodes: sys.nodes, ratePerS, durationS, killedReplica: killed.replica });
}

export function formatCellLine(c: BenchCell): string {
  return (
    `${c.system} ${c.workload} c=${c.connections}: ${c.rps.toFixed(0)} req/s, ` +
    `p50 ${c.latencyMs.p50.toFixed(2)} ms, p99 ${c.latencyMs.p99.toFixed(2)} ms, errors ${c.errors}, non2xx ${c.non2xx}`
  );
}
