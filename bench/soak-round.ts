/**
 * A soak round (bench/README.md, "Soak mode"): a measured round with the sampler process
 * watching every replica (and the load generator's RSS) while it runs, then the analysis of
 * both into the round's SoakReport.
 */
import type { LoadGenerator } from './load-client.js';
import type { RunResult, RunSpec } from './load-protocol.js';
import { measuredRound, type Log } from './measured-round.js';
import type { BenchOptions, Target } from './options.js';
import type { BenchCell } from './results.js';
import { analyzeSoak } from './soak-analysis.js';
import type { SoakReport } from './soak-results.js';
import { SamplerProcess } from './soak-sampler-client.js';
import { fmtRps } from './summary.js';
import type { RunningSystem } from './systems/types.js';

/** Sampling at 20 ms is what the issue did to find its 272 ms stalls. */
export const soakProbeIntervalMs = 20;

/** A measured round with the sampler watching every replica (and the load generator's RSS). */
export async function soakRound(
  sys: RunningSystem,
  spec: RunSpec,
  options: BenchOptions,
  load: LoadGenerator,
  at: { target: Target; round: number; repetition: number },
  log: Log,
): Promise<{ cell: BenchCell; soak: SoakReport }> {
  const sampler = await SamplerProcess.start({
    dialect: sys.dialect,
    replicas: sys.replicas(),
    others: [{ id: 'loadgen', pid: load.pid }],
    leaderCounter: sys.leaderCounter,
    probeIntervalMs: soakProbeIntervalMs,
    probeTimeoutMs: 5000,
    statusIntervalMs: 1000,
  });
  let round: { cell: BenchCell; result: RunResult };
  try {
    round = await measuredRound(sys, spec, at.target, load, (p) => {
      if (p.kind === 'window') log(`  ${sys.name} window ${p.index + 1}: ${fmtRps(p.ok / options.windowS)} req/s, ${p.errors} errors, ${p.non2xx} non-2xx`);
    });
  } catch (err) {
    await sampler.close();
    throw err;
  }
  const { cell, result } = round;
  const samples = await sampler.stop();
  const soak = analyzeSoak({
    meta: {
      system: sys.name,
      nodes: sys.nodes,
      workload: spec.workload,
      connections: spec.connections,
      target: at.target,
      keys: options.keys,
      valueBytes: options.valueBytes,
      round: at.round,
      repetition: at.repetition,
      windowS: options.windowS,
    },
    load: { startMs: result.startMs, durationS: cell.durationS, ok: result.ok, windows: result.windows ?? [] },
    sampler: samples,
    probeIntervalMs: soakProbeIntervalMs,
    leaderCounter: sys.leaderCounter,
  });
  return { cell, soak };
}
