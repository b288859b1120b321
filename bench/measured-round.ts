/**
 * One measured round of a cell: the load generator's round, with the system's CPU time from
 * /proc and its counters from /metrics read before and after it.
 */
import type { LoadGenerator, OnProgress } from './load-client.js';
import type { RunResult, RunSpec } from './load-protocol.js';
import type { Target } from './options.js';
import { cpuDelta, processCpu, totalCpu } from './proc-cpu.js';
import { deriveMetrics } from './prom-metrics.js';
import type { BenchCell } from './results.js';
import type { RunningSystem } from './systems/types.js';

export type Log = (line: string) => void;

/**
 * `target` is where `spec.urls` point (recorded in the cell); `progress` gets the load
 * generator's progress lines (soak windows as they close). The cell's `rpsRuns`, `round` and
 * `rounds` are filled in by the caller (runner.ts measureCell).
 */
export async function measuredRound(
  sys: RunningSystem,
  spec: RunSpec,
  target: Target,
  load: LoadGenerator,
  progress?: OnProgress,
): Promise<{ cell: BenchCell; result: RunResult }> {
  const countersBefore = await sys.readCounters();
  const sysCpuBefore = totalCpu(sys.pids());
  const loadCpuBefore = processCpu(load.pid);
  const result: RunResult = await load.run(spec, progress);
  const sysCpu = cpuDelta(sysCpuBefore, totalCpu(sys.pids()));
  const loadCpu = cpuDelta(loadCpuBefore, processCpu(load.pid));
  const countersAfter = await sys.readCounters();
  const durationS = result.durationS > 0 ? result.durationS : spec.durationS;
  const derived = deriveMetrics(countersBefore, countersAfter, result.ok);
  const sysCpuS = sysCpu.userS + sysCpu.systemS;
  const cell: BenchCell = {
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
    target,
    rate: spec.rate,
    rpsRuns: [],
    round: 1,
    rounds: [],
    latencySource: result.latencySource,
    statusCodes: result.statusCodes,
  };
  return { cell, result };
}
