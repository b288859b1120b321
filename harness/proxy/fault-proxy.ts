/**
 * The fault proxy: one listener per directed replica-to-replica link (see link-proxy.ts), with
 * controls for partitions of any shape, delay with jitter and slow links. Replicas are pointed
 * at it through `ClusterOptions.dial`. Every link change is logged with a timestamp so that
 * the report can show it.
 */
import type { Rng } from '../../protocols/common/rng.js';
import { LinkProxy, noShaping, type HostPort, type LinkMode, type LinkShaping } from './link-proxy.js';
import { groups, isolate, type PartitionShape } from './partition-shapes.js';

export interface LinkEvent {
  /** From the proxy's clock (by default ms since it started). */
  timeMs: number;
  links: Array<[string, string]>;
  change: string;
}

export interface FaultProxyOptions {
  ids: readonly string[];
  /** Real peer addresses; can also be given later with setTarget (before replicas dial). */
  targets?: Record<string, HostPort>;
  /** Jitter randomness; seeded for reproducible runs. */
  rng?: Rng;
  /** Timestamp for the link log, in ms. */
  clockMs?: () => number;
  host?: string;
}

export class FaultProxy {
  readonly events: LinkEvent[] = [];
  private readonly links = new Map<string, LinkProxy>();
  private readonly targets = new Map<string, HostPort>();
  private readonly clockMs: () => number;
  private readonly random: () => number;
  private nodes: string[];

  private constructor(ids: readonly string[], private readonly options: FaultProxyOptions) {
    const t0 = performance.now();
    this.clockMs = options.clockMs ?? (() => performance.now() - t0);
    for (const [id, hp] of Object.entries(options.targets ?? {})) this.targets.set(id, hp);
    this.random = options.rng === undefined ? Math.random : () => options.rng!.next();
    this.nodes = [...ids];
    for (const from of ids) {
      for (const to of ids) {
        if (from !== to) this.makeLink(from, to);
      }
    }
  }

  /** The nodes whose links go through the proxy (addNode and removeNode change them). */
  get ids(): readonly string[] {
    return this.nodes;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options.ids, options);
    try {
      await Promise.all([...proxy.links.values()].map((l) => l.listen()));
    } catch (err) {
      await proxy.close();
      throw err;
    }
    return proxy;
  }

  /** For ClusterOptions.dial: where `from` should dial to reach `to`. */
  readonly dial = (from: string, to: string): string | undefined => this.links.get(linkKey(from, to))?.address;

  setTarget(id: string, target: HostPort): void {
    this.targets.set(id, target);
  }

  /**
   * A replica joins after the start (a Raft membership change): links to and from every node
   * already here, listening before it returns, so `dial` answers for them at once.
   */
  async addNode(id: string, target: HostPort): Promise<void> {
    if (this.nodes.includes(id)) throw new Error(`${id} already has links through the proxy`);
    this.targets.set(id, target);
    const added = this.nodes.flatMap((other) => [this.makeLink(other, id), this.makeLink(id, other)]);
    this.nodes = [...this.nodes, id];
    try {
      await Promise.all(added.map((l) => l.listen()));
    } catch (err) {
      await this.removeNode(id);
      throw err;
    }
    this.log(added.map((l) => [l.from, l.to]), `add ${id}`);
  }

  /** A replica left the configuration: its links close (peers dialing it are refused). */
  async removeNode(id: string): Promise<void> {
    if (!this.nodes.includes(id)) return;
    this.nodes = this.nodes.filter((n) => n !== id);
    const gone = [...this.links.values()].filter((l) => l.from === id || l.to === id);
    for (const l of gone) this.links.delete(linkKey(l.from, l.to));
    this.log(gone.map((l) => [l.from, l.to]), `remove ${id}`);
    await Promise.all(gone.map((l) => l.close()));
  }

  link(from: string, to: string): LinkProxy {
    const l = this.links.get(linkKey(from, to));
    if (l === undefined) throw new Error(`no link ${from}→${to}`);
    return l;
  }

  allLinks(): Array<[string, string]> {
    return [...this.links.values()].map((l) => [l.from, l.to]);
  }

  /** Links into and out of the given nodes. */
  linksOf(nodes: readonly string[]): Array<[string, string]> {
    return this.allLinks().filter(([a, b]) => nodes.includes(a) || nodes.includes(b));
  }

  setMode(links: ReadonlyArray<readonly [string, string]>, mode: LinkMode, why = mode): void {
    for (const [a, b] of links) this.link(a, b).setMode(mode);
    this.log([...links].map(([a, b]) => [a, b]), why);
  }

  /** Cut both directions between a and b. */
  cut(a: string, b: string, mode: Exclude<LinkMode, 'pass'> = 'blackhole'): void {
    this.setMode([[a, b], [b, a]], mode);
  }

  /** Apply a shape: its cut links go `mode`, every other link passes. */
  partition(shape: PartitionShape, mode: Exclude<LinkMode, 'pass'> = 'blackhole'): void {
    const cut = new Set(shape.cut.map(([a, b]) => linkKey(a, b)));
    for (const l of this.links.values()) l.setMode(cut.has(linkKey(l.from, l.to)) ? mode : 'pass');
    this.log(shape.cut, `${mode} ${shape.name}: ${shape.description}`);
  }

  isolate(node: string, mode: Exclude<LinkMode, 'pass'> = 'blackhole'): PartitionShape {
    const shape = isolate(this.ids, node);
    this.partition(shape, mode);
    return shape;
  }

  /** Split into the given groups (e.g. a majority and a minority). */
  split(parts: readonly (readonly string[])[], mode: Exclude<LinkMode, 'pass'> = 'blackhole'): PartitionShape {
    const shape = groups(this.ids, parts);
    this.partition(shape, mode);
    return shape;
  }

  shape(links: ReadonlyArray<readonly [string, string]>, shaping: Partial<LinkShaping>): void {
    for (const [a, b] of links) this.link(a, b).setShaping(shaping);
    this.log([...links].map(([a, b]) => [a, b]), `shape ${JSON.stringify(shaping)}`);
  }

  /** Every link passes again (connections that went silent are closed). */
  healPartitions(): void {
    for (const l of this.links.values()) l.setMode('pass');
    this.log([], 'heal partitions');
  }

  /** No delay or bandwidth limit on any link. */
  clearShaping(): void {
    for (const l of this.links.values()) l.setShaping(noShaping);
    this.log([], 'clear delay and bandwidth');
  }

  heal(): void {
    for (const l of this.links.values()) {
      l.setMode('pass');
      l.setShaping(noShaping);
    }
    this.log([], 'heal');
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }

  private makeLink(from: string, to: string): LinkProxy {
    const link = new LinkProxy(from, to, () => this.targets.get(to), this.random, this.options.host);
    this.links.set(linkKey(from, to), link);
    return link;
  }

  private log(links: Array<[string, string]>, change: string): void {
    this.events.push({ timeMs: this.clockMs(), links, change });
  }
}

const linkKey = (from: string, to: string): string => `${from}->${to}`;
