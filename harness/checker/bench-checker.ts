/**
 * How fast the checker decides generated histories (10 keys, 10 clients):
 *
 *   node --import tsx harness/checker/bench-checker.ts [--runs N] [--info-rate P] [--keys K] [--clients C]
 *
 * For 1k, 10k and 20k operations it times a linearizable history, and the same history with one
 * injected stale read (which makes the search exhaust everything before the read). Prints the
 * median and fastest of N runs after one warm-up. Not a test: numbers depend on the machine.
 */
import { parseArgs } from 'node:util';
import { SeededRng } from '../../protocols/common/rng.js';
import { checkHistory } from './check-history.js';
import type { CheckResult } from './check-history.js';
import { generateHistory, injectStaleRead } from './generate-history.js';
import type { HistoryEvent } from './history.js';

const SIZES = [1_000, 10_000, 20_000];
const SEED = 20_240_601;

function time(events: readonly HistoryEvent[], runs: number): { medianMs: number; minMs: number; result: CheckResult } {
  let result = checkHistory(events);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    result = checkHistory(events);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)] ?? NaN, minMs: samples[0] ?? NaN, result };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      'info-rate': { type: 'string' },
      keys: { type: 'string' },
      clients: { type: 'string' },
    },
  });
  const runs = Number(values.runs ?? 5);
  const infoRate = Number(values['info-rate'] ?? 0.02);
  const keys = Number(values.keys ?? 10);
  const clients = Number(values.clients ?? 10);
  console.log(`checker bench: ${keys} keys, ${clients} clients, info rate ${infoRate}, median (min) of ${runs} runs, node ${process.version}`);
  console.log('ops      checked  linearizable                       with one stale read');
  for (const ops of SIZES) {
    const events = generateHistory({ seed: SEED, ops, keys, clients, infoRate });
    const injected = injectStaleRead(events, new SeededRng(SEED));
    const good = time(events, runs);
    const row = [
      String(ops).padEnd(8),
      String(good.result.stats.ops).padEnd(8),
      `${describe(good)}`.padEnd(34),
    ];
    if (injected !== undefined) row.push(describe(time(injected.events, runs)));
    console.log(row.join(' '));
  }
}

function describe({ medianMs, minMs, result }: { medianMs: number; minMs: number; result: CheckResult }): string {
  return `${medianMs.toFixed(1)} ms (${minMs.toFixed(1)}) ${String(result.valid)}, ${result.stats.statesExplored} states`;
}

main();
