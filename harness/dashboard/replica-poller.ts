import type { Replica } from '../cluster/cluster.js';
import type { CardState, FlowMessage, LagView, StatusOnlyState } from './dashboard-types.js';
import { LagTracker } from './event-loop-lag.js';

interface MessagesAnswer {
  seq: number;
  messages: Array<{ dir: string; from: string; to: string; type: string; timeMs: number }>;
}

export interface PollResult {
  state: CardState | null;
  stale: boolean;
  error: string | null;
  messages: FlowMessage[];
  lag: LagView | undefined;
}

/**
 * Reads one replica's debug API (nodes/debug/): its state and the sampled messages since the last
 * read, and about once a second its /metrics for the event-loop delay (event-loop-lag.ts: the
 * replica's window is a second, and a scrape renders every metric, so more often would cost the
 * replica for nothing). A replica that is not up is not asked; its last state is kept and marked
 * stale. A replica without the debug API is shown from /status.
 */
export class ReplicaPoller {
  private last: CardState | null = null;
  private since = 0;
  private pid: number | null = null;
  private readonly lag = new LagTracker();
  private lagReadAtMs = -Infinity;

  constructor(
    /** Headers of the admin calls (its debug routes): Cluster.adminHeaders. */
    private readonly admin: Record<string, string> = {},
    private readonly timeoutMs = 800,
    private readonly lagEveryMs = 1000,
  ) {}

  async poll(replica: Pick<Replica, 'httpUrl' | 'state'>): Promise<PollResult> {
    if (replica.state !== 'up') return { state: this.last, stale: this.last !== null, error: null, messages: [], lag: this.lag.view() };
    try {
      const state = await this.readState(replica.httpUrl);
      if (state.pid !== this.pid) this.since = 0; // a new process: its sequence numbers start again
      this.pid = state.pid;
      this.last = state;
      const [messages] = await Promise.all([this.readMessages(replica.httpUrl), this.readLag(replica.httpUrl, state.pid)]);
      return { state, stale: false, error: null, messages, lag: this.lag.view() };
    } catch (err) {
      return { state: this.last, stale: this.last !== null, error: (err as Error).message, messages: [], lag: this.lag.view() };
    }
  }

  /** At most once per lagEveryMs; a failed or unparsable read only leaves the lag as it was. */
  private async readLag(url: string, pid: number): Promise<void> {
    const now = Date.now();
    if (now - this.lagReadAtMs < this.lagEveryMs) return;
    this.lagReadAtMs = now;
    try {
      const res = await fetch(url + '/metrics', { signal: AbortSignal.timeout(this.timeoutMs) });
      if (res.ok) this.lag.update(await res.text(), pid, Date.now());
    } catch {
      // the state read decides whether the replica is reachable; the lag just waits for the next read
    }
  }

  private async readState(url: string): Promise<CardState> {
    const res = await fetch(url + '/admin/debug/state', { headers: this.admin, signal: AbortSignal.timeout(this.timeoutMs) });
    if (res.ok) return (await res.json()) as CardState;
    if (res.status !== 404) throw new Error(`debug state: HTTP ${res.status}`);
    return statusOnly(await getJson(url + '/status', this.timeoutMs));
  }

  private async readMessages(url: string): Promise<FlowMessage[]> {
    const res = await fetch(`${url}/admin/debug/messages?since=${this.since}&limit=200`, { headers: this.admin, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) return [];
    const body = (await res.json()) as MessagesAnswer;
    const first = this.since === 0;
    this.since = body.seq;
    // The first read after a (re)start returns old history: do not replay it as if live.
    if (first) return [];
    return body.messages.filter((m) => m.dir === 'send').map(({ from, to, type, timeMs }) => ({ from, to, type, timeMs }));
  }
}

async function getJson(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Raft's term, Multi-Paxos's ballot round or PBFT's view from /status (docs/design.md §4.7). */
export function statusOnly(s: Record<string, unknown>): StatusOnlyState {
  const ballot = s['ballot'] as { round?: number; leader?: string } | undefined;
  const [epoch, epochLabel] =
    typeof s['term'] === 'number'
      ? [s['term'], `term ${s['term']}`]
      : ballot !== undefined
        ? [ballot.round ?? 0, `ballot ${ballot.round}.${ballot.leader}`]
        : [Number(s['view'] ?? 0), `view ${s['view'] ?? '?'}`];
  return {
    protocol: 'status-only',
    id: String(s['id']),
    pid: Number(s['pid'] ?? 0),
    role: String(s['role'] ?? 'unknown'),
    leader: typeof s['leader'] === 'string' ? s['leader'] : null,
    epoch,
    epochLabel,
    commitIndex: Number(s['commitIndex'] ?? 0),
    appliedIndex: Number(s['appliedIndex'] ?? 0),
    timeMs: Date.now(),
    log: [],
  };
}
