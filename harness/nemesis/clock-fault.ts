/**
 * The `clock` nemesis: one replica's clock (wall and monotonic together, through libfaketime, see
 * harness/clock/) runs fast or slow, jumps forward or back, or strobes, as Jepsen's clock nemesis
 * does (jepsen.nemesis.time: bump, strobe, reset; jepsen.faketime for rates). When the fault ends
 * the clock is reset to the true time, as Jepsen resets it with ntpdate: a step, forward after a
 * slow clock or a step back, backward after a fast clock or a step forward.
 *
 * The replica stays up, so the fault impairs no node for the majority rule; but it owns the clock
 * resource: one clock fault at a time, so that one fault's reset never undoes another's.
 *
 * What it is for: a protocol whose safety depends on time breaks under it. Raft's lease reads
 * (`?consistency=lease`) trust that the leader's clock runs at nearly the rate of its followers'
 * (protocols/raft/README.md, "Lease reads"); a leader whose clock runs slow keeps serving from its
 * lease after the others have elected a new leader. Everything else in the three protocols uses
 * time only to decide when to suspect a leader, so a bad clock costs them availability, never
 * safety (each protocol README, "What depends on time").
 */
import type { Rng } from '../../protocols/common/rng.js';
import type { ClockControl } from '../clock/replica-clocks.js';
import type { FaultKind, NemesisEnv, PlanContext } from './fault-kinds.js';

export const CLOCK_MODES = ['slow', 'fast', 'bump-forward', 'bump-back', 'strobe'] as const;
export type ClockMode = (typeof CLOCK_MODES)[number];

/**
 * Parameters per mode, drawn from the seeded rng. Raft's lease allows a drift of 2 ticks in 10
 * (about 5%); every rate here is far beyond it. Steps are from a quarter of a second (a few ticks
 * of every protocol) to 2 s (several election timeouts). Every backward step of the clock is at
 * most 2 s, because libfaketime steps the monotonic clock too and the replica's timers then stall
 * for about as long (harness/clock/replica-clocks.ts): a step back is at most 2 s, a step forward
 * (undone by the reset) too, and a fast clock runs fast only until it gained `gainMs` (at most
 * 2 s), then at the true rate that far ahead until the reset steps it back.
 */
export function planClock(rng: Rng): Record<string, unknown> {
  const mode = CLOCK_MODES[rng.int(CLOCK_MODES.length)]!;
  const round = (x: number, digits: number) => Number(x.toFixed(digits));
  switch (mode) {
    case 'slow':
      // Log-uniform from x0.02 to x0.5: half the slow clocks run at less than a tenth of the rate.
      return { mode, rate: round(0.02 * 25 ** rng.next(), 4) };
    case 'fast':
      return { mode, rate: round(1.5 + 1.5 * rng.next(), 3), gainMs: rng.between(250, 2000) };
    case 'bump-forward':
      return { mode, stepMs: rng.between(250, 2000) };
    case 'bump-back':
      return { mode, stepMs: -rng.between(250, 2000) };
    case 'strobe':
      return { mode, deltaMs: rng.between(50, 1000), periodMs: rng.between(20, 250) };
  }
}

function clocksOf(env: NemesisEnv): ClockControl {
  if (env.clocks === undefined) throw new Error('the clock nemesis needs replicas started under libfaketime (ClusterOptions.clocks)');
  return env.clocks;
}

/** Set the clock of `id` as `params` say; returns what to record. */
async function startClock(clocks: ClockControl, id: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const mode = params['mode'] as ClockMode;
  const num = (k: string) => {
    const v = params[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`clock fault ${mode}: ${k} must be a number, not ${JSON.stringify(v)}`);
    return v;
  };
  switch (mode) {
    case 'slow':
      return { ...(await clocks.setRate(id, num('rate'))) };
    case 'fast': {
      const rate = num('rate');
      if (!(rate > 1)) throw new Error(`clock fault fast: rate must be above 1, not ${rate}`);
      const forMs = Math.round(num('gainMs') / (rate - 1));
      return { ...(await clocks.setRate(id, rate, forMs)), fastForMs: forMs };
    }
    case 'bump-forward':
    case 'bump-back':
      return { ...(await clocks.step(id, num('stepMs'))) };
    case 'strobe':
      return { ...(await clocks.strobe(id, num('deltaMs'), num('periodMs'))) };
    default:
      throw new Error(`unknown clock mode ${JSON.stringify(mode)}; known: ${CLOCK_MODES.join(', ')}`);
  }
}

export const clockFault: FaultKind = {
  name: 'clock',
  resource: 'clock',
  // A clock that is wrong stays wrong for a while (Jepsen's faketime rates last a whole run), and
  // what a rate does grows with time: a slow leader's lease outlasts the others' by more the
  // longer it runs slow. Twice as long as other faults, so that faults of other kinds start while
  // a clock is wrong.
  durationScale: 2,
  impairs: () => 0,
  plan: (ctx: PlanContext) => {
    // Often the leader: a leader's clock is the one a lease trusts.
    const targets = ctx.rng.chance(0.5) ? ['leader'] : [ctx.ids[ctx.rng.int(ctx.ids.length)]!];
    return { targets, params: planClock(ctx.rng) };
  },
  start: async (fault, env, targets) => {
    const clocks = clocksOf(env);
    const params = fault.params ?? {};
    const set = [];
    for (const id of targets) set.push(await startClock(clocks, id, params));
    return { nodes: targets, mode: params['mode'], clocks: set };
  },
  stop: async (_fault, env, targets) => {
    const clocks = clocksOf(env);
    const reset = [];
    for (const id of targets) reset.push(await clocks.reset(id));
    return { nodes: targets, clocks: reset };
  },
};
