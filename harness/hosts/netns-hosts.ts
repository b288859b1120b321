/**
 * Hosts with their own network, on one machine: every replica gets a Linux network namespace
 * (network_namespaces(7)) of its own, joined to a bridge on the host side by a veth pair (veth(4)),
 * with its own address on a private /24 of this run (subnet.ts). Replicas listen on that address
 * and dial each other by it; clients, the workload, the bench and the dashboard reach them from
 * the host's address on the bridge. The network is then a real one: partitions are iptables
 * rules inside the namespaces (kernel-partitions.ts) and bandwidth limits tc qdiscs on the veths
 * (bandwidth.ts), as Jepsen does between real hosts.
 *
 *   host:  bridge cl-<run>-br (10.X.Y.1) ── cl-<run>-h1 ┐veth  ┌ cl-<run>-r1 (10.X.Y.11)  namespace cl-<run>-n1
 *                                       └── cl-<run>-h2 ┘pair  └ cl-<run>-r2 (10.X.Y.12)  namespace cl-<run>-n2 ...
 *
 * Everything made is named with the run id (names.ts) and written to the registry first
 * (registry.ts), so it is removed by destroy(), by the process 'exit' handler (an uncaught error,
 * process.exit after a second Ctrl-C), and, after a SIGKILL, by the next run's create().
 */
import { requireNetnsTools, sh, shSync } from './host-tools.js';
import { newNetRunId, runNames, type RunNames } from './names.js';
import { isStale, listEntries, removeRun, removeRunSync, removeStaleRuns, saveEntry, processStart, type RunEntry } from './registry.js';
import { pickSubnet, replicaAddress, type Subnet } from './subnet.js';

/** What `ip netns exec` runs: a command and its arguments. */
export interface HostCommand {
  command: string;
  args: string[];
}

export class NetnsHosts {
  readonly names: RunNames;
  private readonly ids = new Set<string>();
  private destroyed = false;
  private readonly onExit = () => this.destroySync();

  private constructor(
    readonly runId: string,
    readonly subnet: Subnet,
    private readonly entry: RunEntry,
  ) {
    this.names = runNames(runId);
  }

  /**
   * A bridge and one namespace per id. Removes first what SIGKILLed runs left (their owner is gone);
   * throws NetnsUnavailable (what is missing) without root or the tools.
   */
  static async create(ids: readonly string[]): Promise<NetnsHosts> {
    requireNetnsTools();
    await removeStaleRuns();
    const others = (await listEntries()).filter((e) => !isStale(e)).map((e) => e.subnet.replace(/\.0\/24$/, ''));
    const subnet = await pickSubnet(others);
    const runId = newNetRunId();
    const names = runNames(runId);
    const entry: RunEntry = { runId, pid: process.pid, pidStart: processStart(process.pid), bridge: names.bridge, subnet: subnet.cidr, namespaces: [], hostVeths: [] };
    // The entry before anything it names: a SIGKILL from here on leaves nothing the next start misses.
    await saveEntry(entry);
    const hosts = new NetnsHosts(runId, subnet, entry);
    process.on('exit', hosts.onExit);
    try {
      await hosts.makeBridge();
      for (const id of ids) await hosts.addHost(id);
    } catch (err) {
      await hosts.destroy();
      throw err;
    }
    return hosts;
  }

  /** Where clients on the host side talk from (the bridge's address). */
  get hostAddress(): string {
    return this.subnet.hostAddress;
  }

  /** Replica `id`'s address: it listens there, and the others dial it there. */
  address(id: string): string {
    return replicaAddress(this.subnet, id);
  }

  namespace(id: string): string {
    return this.names.namespace(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Every replica with a namespace here. */
  get hostIds(): string[] {
    return [...this.ids];
  }

  /**
   * A namespace for replica `id` (also for one added later, a Raft membership change): loopback
   * up, a veth pair with one end on the bridge and the other, carrying the address, inside, and
   * the run's own iptables chain, jumped to from INPUT (kernel-partitions.ts fills it).
   */
  async addHost(id: string): Promise<void> {
    if (this.ids.has(id)) return;
    const ns = this.names.namespace(id);
    const hostVeth = this.names.hostVeth(id);
    const replicaVeth = this.names.replicaVeth(id);
    this.entry.namespaces.push(ns);
    this.entry.hostVeths.push(hostVeth);
    await saveEntry(this.entry);
    await sh('ip', ['netns', 'add', ns]);
    this.ids.add(id);
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await sh('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', replicaVeth, 'netns', ns]);
    await sh('ip', ['link', 'set', hostVeth, 'master', this.names.bridge]);
    await sh('ip', ['link', 'set', hostVeth, 'up']);
    await sh('ip', ['-n', ns, 'addr', 'add', `${this.address(id)}/24`, 'dev', replicaVeth]);
    await sh('ip', ['-n', ns, 'link', 'set', replicaVeth, 'up']);
    await this.iptables(id, ['-N', this.names.chain]);
    await this.iptables(id, ['-I', 'INPUT', '-j', this.names.chain]);
  }

  /** Run iptables inside replica `id`'s namespace. */
  iptables(id: string, args: readonly string[], input?: string): Promise<string> {
    return sh('ip', ['netns', 'exec', this.names.namespace(id), input === undefined ? 'iptables' : 'iptables-restore', ...args], input);
  }

  /**
   * `command args` inside replica `id`'s namespace: `ip netns exec <ns> env K=V... command args`.
   * `ip netns exec` execs (no fork), and so does env(1), so the pid the caller gets is the
   * replica's own (signals, SIGSTOP included, reach it). Variables in `env` (libfaketime's
   * LD_PRELOAD and clock file, harness/clock) are set by env(1), so that only the replica runs
   * under them, not `ip`.
   */
  command(id: string, command: string, args: readonly string[], env: Record<string, string> = {}): HostCommand {
    if (!this.ids.has(id)) throw new Error(`${id} has no network namespace in run ${this.runId}`);
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return { command: 'ip', args: ['netns', 'exec', this.names.namespace(id), 'env', ...assignments, command, ...args] };
  }

  /** Remove every namespace, veth, rule, qdisc and the bridge, and the registry entry. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    await removeRun(this.entry);
  }

  /** destroy(), synchronously, from the process 'exit' handler. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    removeRunSync(this.entry, shSync);
  }

  private async makeBridge(): Promise<void> {
    const bridge = this.names.bridge;
    await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await sh('ip', ['addr', 'add', `${this.subnet.hostAddress}/24`, 'dev', bridge]);
    await sh('ip', ['link', 'set', bridge, 'up']);
  }
}
