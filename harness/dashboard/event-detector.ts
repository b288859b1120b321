/**
 * The timeline's events, found by comparing two consecutive snapshots: processes killed, paused
 * or back, links cut and healed, elections, term/ballot/view changes, leader changes and event-
 * loop stalls (a delay over 50 ms, event-loop-lag.ts). Pure, so
 * it sees faults however they were injected (dashboard buttons, the console, a script).
 */
import type { DashboardSnapshot, LinkView, ReplicaView, TimelineEvent } from './dashboard-types.js';
import { STALL_RECENT_MS } from './event-loop-lag.js';

export type DetectedEvent = Omit<TimelineEvent, 'seq' | 'timeMs'>;

export function detectEvents(prev: DashboardSnapshot | null, next: DashboardSnapshot): DetectedEvent[] {
  if (prev === null) return next.leader === null ? [] : [{ kind: 'leader', text: `leader ${next.leader}${epochOf(next, next.leader)}` }];
  const out: DetectedEvent[] = [];
  const before = new Map(prev.replicas.map((r) => [r.id, r]));
  for (const r of next.replicas) {
    const p = before.get(r.id);
    if (p !== undefined) out.push(...replicaEvents(p, r));
  }
  out.push(...linkEvents(prev.links ?? [], next.links ?? []));
  if (prev.leader !== next.leader) {
    out.push({ kind: 'leader', text: next.leader === null ? `no leader (was ${prev.leader})` : `leader ${prev.leader ?? 'none'} → ${next.leader}${epochOf(next, next.leader)}` });
  }
  return out;
}

function replicaEvents(p: ReplicaView, r: ReplicaView): DetectedEvent[] {
  const out: DetectedEvent[] = [];
  if (p.process !== r.process && r.process !== 'starting') {
    const text = r.process === 'up' ? `${r.id} is up` : `${r.id} ${r.process}`;
    out.push({ kind: r.process === 'up' ? 'heal' : 'process', text, replica: r.id });
  }
  // A stall that starts a run: on a loaded machine every second may bring one, the card shows them all.
  const stall = r.lag?.lastStall;
  const before = p.lag?.lastStall;
  if (stall != null && (before == null || stall.timeMs - before.timeMs >= STALL_RECENT_MS)) {
    out.push({ kind: 'stall', text: `${r.id}: event loop stalled ${stall.atLeast ? 'over ' : ''}${Math.round(stall.ms)} ms`, replica: r.id });
  }
  const a = p.state;
  const b = r.state;
  if (a === null || b === null || r.stale || b.pid !== a.pid) return out;
  if (b.epoch > a.epoch) out.push({ kind: 'epoch', text: `${r.id}: ${a.epochLabel} → ${b.epochLabel}`, replica: r.id });
  if (campaigning(b.role) && (!campaigning(a.role) || b.epoch > a.epoch)) {
    out.push({ kind: 'election', text: `${r.id} starts an election (${b.epochLabel})`, replica: r.id });
  } else if (b.leader === r.id && (a.leader !== r.id || b.epoch > a.epoch)) {
    // Elections are often over between two polls: the new leader is the evidence.
    out.push({ kind: 'election', text: `${r.id} won the election (${b.epochLabel})`, replica: r.id });
  }
  return out;
}

/** Raft and Multi-Paxos candidates; a PBFT replica between ViewChange and NewView. */
const campaigning = (role: string): boolean => role === 'candidate' || role === 'view-changing';

function linkEvents(prev: LinkView[], next: LinkView[]): DetectedEvent[] {
  const before = new Map(prev.map((l) => [`${l.a}-${l.b}`, l]));
  const out: DetectedEvent[] = [];
  for (const l of next) {
    const p = before.get(`${l.a}-${l.b}`);
    if (p === undefined) continue;
    const was = describe(p);
    const now = describe(l);
    if (was === now) continue;
    const healed = now === 'passes';
    out.push({ kind: healed ? 'heal' : 'fault', text: healed ? `link ${l.a}–${l.b} healed` : `link ${l.a}–${l.b} ${now}` });
  }
  return out;
}

/** "passes", "cut (blackhole)", "n1→n2 cut (refuse)". */
function describe(l: LinkView): string {
  if (l.ab === 'pass' && l.ba === 'pass') return 'passes';
  if (l.ab !== 'pass' && l.ba !== 'pass') return `cut (${l.ab})`;
  return l.ab !== 'pass' ? `${l.a}→${l.b} cut (${l.ab})` : `${l.b}→${l.a} cut (${l.ba})`;
}

function epochOf(s: DashboardSnapshot, id: string): string {
  const state = s.replicas.find((r) => r.id === id)?.state;
  return state === null || state === undefined ? '' : ` (${state.epochLabel})`;
}

/**
 * The leader a majority of the running replicas agree on: a replica that says it leads, whom more
 * than half of all replicas (or every running one) name as leader; the highest epoch wins.
 */
export function agreedLeader(replicas: readonly ReplicaView[]): string | null {
  const live = replicas.filter((r) => r.process === 'up' && !r.stale && r.state !== null);
  const claims = live.filter((r) => r.state!.leader === r.id).sort((x, y) => y.state!.epoch - x.state!.epoch);
  for (const c of claims) {
    const agree = live.filter((r) => r.state!.leader === c.id).length;
    if (agree > replicas.length / 2 || agree === live.length) return c.id;
  }
  return null;
}
