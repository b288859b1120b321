/**
 * One worker process of `npm run sim:hunt` (scripts/sim-hunt.ts): runs every configuration it is
 * given on seeds from + index, from + index + stride, ... until its deadline, and reports each
 * failure at once and its seed counts every second, over the IPC channel.
 */
import { simulate as simulateRaft } from '../protocols/raft/sim/simulation.js';
import { simulate as simulatePaxos } from '../protocols/multipaxos/sim/simulation.js';
import { simulate as simulatePbft } from '../protocols/pbft/sim/simulation.js';
import type { HuntConfig, HuntJob, HuntReport } from './sim-hunt-types.js';

const simulators: Record<HuntConfig['protocol'], (options: { seed: number; nodes: number }) => unknown> = {
  raft: simulateRaft,
  multipaxos: simulatePaxos,
  pbft: simulatePbft,
};

function send(report: HuntReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(report, () => resolve());
  });
}

async function run(job: HuntJob): Promise<void> {
  const counts = job.configs.map(() => 0);
  let lastReport = performance.now();
  for (let k = 0; Date.now() < job.deadlineMs; k++) {
    const seed = job.from + job.index + k * job.stride;
    job.configs.forEach((config, c) => {
      try {
        simulators[config.protocol]({ seed, nodes: config.nodes });
      } catch (error) {
        void send({ type: 'failure', config, seed, message: error instanceof Error ? error.message : String(error) });
      }
      counts[c] = (counts[c] ?? 0) + 1;
    });
    if (performance.now() - lastReport > 1000) {
      void send({ type: 'progress', counts: [...counts] });
      lastReport = performance.now();
    }
    await new Promise((resolve) => setImmediate(resolve)); // let the reports out as they happen
  }
  await send({ type: 'progress', counts });
  await send({ type: 'done' });
}

process.once('message', (job: HuntJob) => {
  void run(job).then(() => process.exit(0));
});
