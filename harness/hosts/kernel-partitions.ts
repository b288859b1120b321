/**
 * Partitions made by the kernel between replicas in their own namespaces (netns-hosts.ts), with
 * the fault proxy's controls (setMode, partition, isolate, split, healPartitions, link(a, b).mode)
 * so that the nemesis and the dashboard drive either one. The table of directed link modes is the
 * truth; every change rewrites the run's chain in each namespace whose incoming links changed
 * (partition-rules.ts), and healing empties the chains: exactly the rules this run added go.
 * Every change is logged with a timestamp, as the proxy logs it, for the report.
 */
import type { LinkEvent } from '../proxy/fault-proxy.js';
import type { LinkMode } from '../proxy/link-proxy.js';
import { groups, isolate, type PartitionShape } from '../proxy/partition-shapes.js';
import type { NetnsHosts } from './netns-hosts.js';
import { chainRules, restoreInput, type Cut, type CutMode, type HostTarget } from './partition-rules.js';

export interface KernelPartitionsOptions {
  hosts: NetnsHosts;
  /** The replicas now, with the ports each listens on (a replica added later appears here). */
  targets: () => Array<{ id: string; ports: number[] }>;
  clockMs?: () => number;
}

export class KernelPartitions {
  readonly events: LinkEvent[] = [];
  /** Cut links "from->to" and how; every other link passes. */
  private readonly cuts = new Map<string, Cut>();
  /** What each namespace's chain holds now (so only changed chains are rewritten). */
  private readonly written = new Map<string, string>();
  private readonly clockMs: () => number;
  /** Changes run one after another, so the chains end as the last change says. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: KernelPartitionsOptions) {
    const t0 = performance.now();
    this.clockMs = o.clockMs ?? (() => performance.now() - t0);
  }

  get ids(): readonly string[] {
    return this.o.targets().map((t) => t.id);
  }

  /** A link's mode, as the proxy's link(a, b).mode. */
  link(from: string, to: string): { from: string; to: string; mode: LinkMode } {
    return { from, to, mode: this.cuts.get(key(from, to))?.mode ?? 'pass' };
  }

  async setMode(links: ReadonlyArray<readonly [string, string]>, mode: LinkMode, why: string = mode): Promise<void> {
    for (const [from, to] of links) {
      if (mode === 'pass') this.cuts.delete(key(from, to));
      else this.cuts.set(key(from, to), { from, to, mode });
    }
    await this.apply([...links].map(([a, b]) => [a, b]), `kernel ${why}`);
  }

  /** Apply a shape: its cut links go `mode` (DROP or REJECT), every other link passes. */
  async partition(shape: PartitionShape, mode: CutMode = 'blackhole'): Promise<void> {
    this.cuts.clear();
    for (const [from, to] of shape.cut) this.cuts.set(key(from, to), { from, to, mode });
    await this.apply(shape.cut, `kernel ${mode === 'blackhole' ? 'DROP' : 'REJECT'} ${shape.name}: ${shape.description}`);
  }

  async isolate(node: string, mode: CutMode = 'blackhole'): Promise<PartitionShape> {
    const shape = isolate(this.ids, node);
    await this.partition(shape, mode);
    return shape;
  }

  async split(parts: readonly (readonly string[])[], mode: CutMode = 'blackhole'): Promise<PartitionShape> {
    const shape = groups(this.ids, parts);
    await this.partition(shape, mode);
    return shape;
  }

  /** Every link passes again: every chain of the run is emptied. */
  async healPartitions(): Promise<void> {
    this.cuts.clear();
    await this.apply([], 'kernel heal partitions');
  }

  /** The proxy's heal(); bandwidth limits are bandwidth.ts's. */
  heal(): Promise<void> {
    return this.healPartitions();
  }

  private apply(links: Array<[string, string]>, change: string): Promise<void> {
    const run = this.queue.then(() => this.writeChains());
    this.queue = run.catch(() => undefined);
    this.events.push({ timeMs: this.clockMs(), links, change });
    return run;
  }

  private async writeChains(): Promise<void> {
    const targets = new Map<string, HostTarget>(this.o.targets().map((t) => [t.id, { address: this.o.hosts.address(t.id), ports: t.ports }]));
    const target = (id: string): HostTarget => targets.get(id) ?? { address: this.o.hosts.address(id), ports: [] };
    const chain = this.o.hosts.names.chain;
    const cuts = [...this.cuts.values()];
    await Promise.all(
      this.o.hosts.hostIds.map(async (id) => {
        const input = restoreInput(chain, chainRules(chain, id, cuts, target));
        if (this.written.get(id) === input) return;
        await this.o.hosts.iptables(id, ['--noflush'], input);
        this.written.set(id, input);
      }),
    );
  }
}

const key = (from: string, to: string): string => `${from}->${to}`;
