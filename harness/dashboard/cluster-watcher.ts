/**
 * Polls every replica's debug API a few times a second, folds the answers, the harness's view of
 * the processes and the fault proxy's links into one snapshot, finds the timeline's events, and
 * hands all of it to `onUpdate` (the server pushes it to browsers).
 */
import type { Cluster } from '../cluster/cluster.js';
import type { LinkModes } from './cluster-actions.js';
import { linkViews } from './cluster-actions.js';
import type { DashboardSnapshot, FlowMessage, LoadView, ReplicaView, TimelineEvent, TimelineKind } from './dashboard-types.js';
import { agreedLeader, detectEvents } from './event-detector.js';
import { ReplicaPoller } from './replica-poller.js';

export interface WatchUpdate {
  snapshot: DashboardSnapshot;
  events: TimelineEvent[];
  messages: FlowMessage[];
}

export interface WatcherOptions {
  protocol: string;
  cluster: Pick<Cluster, 'replicas' | 'adminHeaders'> & Partial<Pick<Cluster, 'powerLossEnabled'>>;
  proxy: LinkModes | null;
  /** Where the replicas run (DashboardSnapshot.hosts). */
  hosts?: string;
  load: () => LoadView;
  onUpdate: (update: WatchUpdate) => void;
  pollMs?: number;
  /** Sampled messages pushed per poll at most (the browser draws each one). */
  maxMessagesPerPoll?: number;
  eventsKept?: number;
}

export class ClusterWatcher {
  latest: DashboardSnapshot | null = null;
  readonly events: TimelineEvent[] = [];
  private readonly pollers = new Map<string, ReplicaPoller>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private running = false;
  private seq = 0;
  private lastCommit: { index: number; atMs: number } | null = null;

  constructor(private readonly o: WatcherOptions) {}

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** Poll again as soon as possible (after a button was pressed). */
  pollSoon(): void {
    if (this.running && this.polling === null) this.schedule(0);
  }

  /** An event the snapshots cannot show (e.g. which split the dashboard applied). */
  note(kind: TimelineKind, text: string): void {
    const events = [this.stamp({ kind, text })];
    this.keep(events);
    if (this.latest !== null) this.o.onUpdate({ snapshot: this.latest, events, messages: [] });
  }

  /** One poll of every replica; public for tests. */
  async pollOnce(): Promise<WatchUpdate> {
    const polled = await Promise.all(this.o.cluster.replicas.map((r) => this.pollerOf(r.id).poll(r).then((p) => ({ r, p }))));
    // A replica killed or paused while its poll was in flight shows what it said last: stale.
    const replicas: ReplicaView[] = polled.map(({ r, p }) => ({
      id: r.id,
      httpUrl: r.httpUrl,
      process: r.state,
      state: p.state,
      stale: p.stale || (r.state !== 'up' && p.state !== null),
      error: p.error,
      ...(p.lag === undefined ? {} : { lag: p.lag }),
    }));
    const snapshot = this.snapshotOf(replicas);
    const events = detectEvents(this.latest, snapshot).map((e) => this.stamp(e));
    this.keep(events);
    this.latest = snapshot;
    return { snapshot, events, messages: thin(polled.flatMap(({ p }) => p.messages), this.o.maxMessagesPerPoll ?? 60) };
  }

  private snapshotOf(replicas: ReplicaView[]): DashboardSnapshot {
    const now = Date.now();
    const live = replicas.filter((r) => r.process === 'up' && !r.stale && r.state !== null);
    const commitIndex = Math.max(0, ...live.map((r) => r.state!.commitIndex));
    const last = this.lastCommit;
    const commitsPerSec = last === null || now <= last.atMs ? 0 : Math.max(0, ((commitIndex - last.index) * 1000) / (now - last.atMs));
    this.lastCommit = { index: commitIndex, atMs: now };
    return {
      protocol: this.o.protocol,
      timeMs: now,
      leader: agreedLeader(replicas),
      replicas,
      links: this.o.proxy === null ? null : linkViews(this.o.proxy),
      commitIndex,
      commitsPerSec,
      load: this.o.load(),
      powerLoss: this.o.cluster.powerLossEnabled === true,
      hosts: this.o.hosts ?? 'loopback',
    };
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.pollOnce()
        .then((u) => this.o.onUpdate(u))
        .catch(() => undefined)
        .finally(() => {
          this.polling = null;
          if (this.running && this.timer === null) this.schedule(this.o.pollMs ?? 300);
        });
    }, delayMs);
  }

  private pollerOf(id: string): ReplicaPoller {
    let p = this.pollers.get(id);
    if (p === undefined) {
      p = new ReplicaPoller(this.o.cluster.adminHeaders);
      this.pollers.set(id, p);
    }
    return p;
  }

  private stamp(e: Omit<TimelineEvent, 'seq' | 'timeMs'>): TimelineEvent {
    return { seq: ++this.seq, timeMs: Date.now(), ...e };
  }

  private keep(events: TimelineEvent[]): void {
    this.events.push(...events);
    const max = this.o.eventsKept ?? 500;
    if (this.events.length > max) this.events.splice(0, this.events.length - max);
  }
}

/** At most `max` messages, evenly spread over the list (already sampled at the replicas). */
export function thin<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]!);
}
