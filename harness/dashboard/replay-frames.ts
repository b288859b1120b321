/**
 * The network and the replicas at any moment of a chaos run, as change points the replay slider
 * looks up (the last frame at or before t): which directed links the fault proxy had cut, and
 * which replicas a nemesis had killed or paused.
 */
import type { ResultsFile } from '../chaos/results-file.js';

export interface LinkFrame {
  timeMs: number;
  /** Directed links [from, to] that are cut from this moment on. */
  cut: Array<[string, string]>;
}

export interface NodeFrame {
  timeMs: number;
  down: Record<string, 'killed' | 'paused'>;
}

const nodeFaults: Record<string, 'killed' | 'paused'> = { kill: 'killed', 'restart-wiped': 'killed', pause: 'paused' };

/**
 * Replays the proxy's link log (FaultProxy.events): a partition shape ("blackhole halves: ...")
 * cuts exactly its links, setMode ("blackhole", "refuse", "pass") changes only the links it
 * names, any "heal..." passes everything, and delay or bandwidth shaping cuts nothing.
 */
export function linkFrames(events: ResultsFile['linkEvents']): LinkFrame[] {
  let cut = new Map<string, [string, string]>();
  const frames: LinkFrame[] = [{ timeMs: 0, cut: [] }];
  for (const e of events) {
    const key = (l: [string, string]) => `${l[0]}>${l[1]}`;
    if (e.change.startsWith('heal')) cut = new Map();
    else if (/^(blackhole|refuse) /.test(e.change)) cut = new Map(e.links.map((l) => [key(l), l]));
    else if (e.change === 'blackhole' || e.change === 'refuse') for (const l of e.links) cut.set(key(l), l);
    else if (e.change === 'pass') for (const l of e.links) cut.delete(key(l));
    else continue;
    frames.push({ timeMs: e.timeMs, cut: [...cut.values()] });
  }
  return frames;
}

/** Change points of the replicas that are down (killed, wiped, paused) from the nemesis periods. */
export function nodeFrames(periods: ResultsFile['periods'], endMs: number): NodeFrame[] {
  const spans = periods
    .filter((p) => nodeFaults[p.fault] !== undefined)
    .map((p) => ({ state: nodeFaults[p.fault]!, targets: p.targets, start: p.startMs, end: p.endMs ?? endMs }));
  const times = [...new Set([0, ...spans.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
  return times.map((t) => {
    const down: NodeFrame['down'] = {};
    for (const s of spans) if (s.start <= t && t < s.end) for (const id of s.targets) down[id] = s.state;
    return { timeMs: t, down };
  });
}

/** The last frame at or before t (frames sorted by time, the first at 0). */
export function frameAt<F extends { timeMs: number }>(frames: readonly F[], t: number): F | undefined {
  let lo = 0;
  let hi = frames.length - 1;
  let best: F | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.timeMs <= t) {
      best = frames[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}
