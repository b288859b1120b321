import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseHostPort, type ClusterFile, type NodeSpec, type PaxosFileTuning, type Protocol, type RaftFileTuning } from '../../nodes/config.js';
import { freePorts } from './free-port.js';
import { addMember, removeMember } from './membership.js';
import { pbftNodeKeys, pbftReplicaArgs } from './pbft-cluster.js';
import type { PbftFileTuning } from '../../nodes/pbft/pbft-config.js';
import { track } from './process-registry.js';
import { ReplicaDisks } from './replica-disks.js';
import { replicaNodeArgs } from './replica-build.js';
import { replicaV8Flags, withReplicaMallocEnv } from './replica-memory.js';
import { adminHeaders } from '../../nodes/http/admin-auth.js';
import type { PowerLossResult } from '../lazyfs/lazyfs.js';
import { NetnsHosts } from '../hosts/netns-hosts.js';

/** How many of a replica's last output lines a start failure quotes. */
const TAIL_LINES = 12;

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type ReplicaState = 'starting' | 'up' | 'paused' | 'killed' | 'stopped';

export interface Replica {
  id: string;
  /** The address it listens on: 127.0.0.1, or its own namespace's address (`hosts: 'netns'`). */
  host: string;
  httpUrl: string;
  httpPort: number;
  peerPort: number;
  dataDir: string;
  state: ReplicaState;
  process: ChildProcess | null;
}

export interface ClusterOptions {
  protocol: Protocol;
  nodes: number;
  /** Replica i serves HTTP on basePort+i and peers on basePort+100+i; free ports when absent. */
  basePort?: number;
  /** Data directories go under dataRoot/n<i>; a temporary directory (removed on stop) when absent. */
  dataRoot?: string;
  /** Wipe dataRoot first. */
  fresh?: boolean;
  secret?: string;
  /** Raft settings (the cluster file's `raft` section). */
  tuning?: RaftFileTuning;
  /** Multi-Paxos settings (the cluster file's `multipaxos` section). */
  paxosTuning?: PaxosFileTuning;
  /** PBFT settings (the cluster file's `pbft` section). */
  pbftTuning?: PbftFileTuning;
  /** PBFT: replicas started with `--byzantine MODE` (id → mode), e.g. { n2: 'equivocate' }. */
  byzantine?: Record<string, string>;
  /** Extra command-line flags for every replica (e.g. --unsafe-local-reads). */
  replicaArgs?: string[];
  /** Where each replica's raw JSON log goes (`<logDir>/<id>.log`). */
  logDir?: string;
  /** Called with every log line of every replica. */
  onLog?: (id: string, line: string) => void;
  /** Per-link dial addresses (from → to → host:port), for the fault proxy. */
  dial?: (from: string, to: string) => string | undefined;
  /**
   * With `dial`: make and drop the links of replicas added or removed later (the fault proxy's
   * addNode and removeNode). The running replicas are then told to dial the new one through
   * them, which needs `--debug-api` on every replica (createProxiedCluster sets both).
   */
  links?: {
    addNode(id: string, target: { host: string; port: number }): Promise<void>;
    removeNode(id: string): Promise<void>;
  };
  logLevel?: string;
  /** Called when a replica process exits for any reason. */
  onExit?: (id: string, code: number | null, signal: NodeJS.Signals | null) => void;
  /**
   * Put every replica's data directory on a power-loss filesystem of its own (harness/lazyfs,
   * replica-disks.ts), so that powerOff() can discard what a replica had not made durable.
   * Needs root and FUSE; throws a clear error without them.
   */
  lazyfs?: boolean | { maxDirtyBytes?: number };
  /**
   * Start every replica under libfaketime with its own clock file, so that the harness can set
   * each replica's clock while it runs (harness/clock/replica-clocks.ts, the `clock` nemesis).
   */
  clocks?: { launchEnv(id: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv; exited(pid: number): void };
  /**
   * `loopback` (the default): every replica on 127.0.0.1. `netns`: every replica in a network
   * namespace of its own with its own address on a bridge of this run (harness/hosts), reached
   * from the host side; partitions can then be made by the kernel (KernelPartitions). Needs root,
   * iproute2 and iptables; throws NetnsUnavailable (what is missing) without them.
   */
  hosts?: HostsMode;
}

export const hostsModes = ['loopback', 'netns'] as const;
export type HostsMode = (typeof hostsModes)[number];

/**
 * Starts and controls a local cluster of real replica processes (docs/design.md §5.3): the library the
 * tests, the cluster scripts, the chaos command and the benchmarks share. Never leaves a
 * process behind (see process-registry.ts).
 */
export class Cluster {
  private readonly logs = new Map<string, WriteStream>();
  /** The last lines each replica printed, for the error when one exits during start. */
  private readonly tails = new Map<string, string[]>();
  /** Replicas removed from the configuration (removeReplica). */
  private readonly removed: Replica[] = [];
  private constructor(
    readonly options: ClusterOptions,
    readonly replicas: Replica[],
    readonly clusterFilePath: string,
    readonly dataRoot: string,
    private readonly ownsDataRoot: boolean,
    /** The replicas' power-loss filesystems (`lazyfs`), or null. */
    readonly disks: ReplicaDisks | null = null,
    /** The replicas' network namespaces and bridge (`hosts: 'netns'`), or null. */
    readonly netns: NetnsHosts | null = null,
    /** What an admin call to a replica carries (nodes/http/admin-auth.ts: from the cluster secret). */
    readonly adminHeaders: { authorization: string },
  ) {}

  /** Which hosts mode the replicas run in. */
  get hostsMode(): HostsMode {
    return this.netns === null ? 'loopback' : 'netns';
  }

  /** The address replica `id` listens on (and is dialed at). */
  hostOf(id: string): string {
    return this.netns?.address(id) ?? '127.0.0.1';
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    // Chosen ports stay unbound until the replicas start (free-port.ts): one taken in between makes
    // a replica exit with EADDRINUSE, and the cluster starts again on other ports.
    for (let attempt = 1; ; attempt++) {
      const cluster = await Cluster.create(options);
      try {
        await Promise.all(cluster.replicas.map((r) => cluster.launch(r)));
        await cluster.waitServing();
        return cluster;
      } catch (err) {
        await cluster.stopAll();
        const portTaken = err instanceof Error && err.message.includes('EADDRINUSE');
        if (!portTaken || options.basePort !== undefined || attempt === 3) throw err;
      }
    }
  }

  static async create(options: ClusterOptions): Promise<Cluster> {
    const ownsDataRoot = options.dataRoot === undefined;
    const dataRoot = options.dataRoot ?? (await mkdtemp(join(tmpdir(), `consensus-lab-${options.protocol}-`)));
    // Before a fresh wipe: preparing removes stale power-loss mounts a killed run left under dataRoot.
    const disks = await prepareDisks(dataRoot, options).catch(async (err: unknown) => {
      if (ownsDataRoot) await rm(dataRoot, { recursive: true, force: true });
      throw err;
    });
    if (options.fresh === true && !ownsDataRoot) await rm(dataRoot, { recursive: true, force: true });
    await mkdir(dataRoot, { recursive: true });
    const n = options.nodes;
    const netns = await makeHosts(options, n).catch(async (err: unknown) => {
      await disks?.unmountAll();
      if (ownsDataRoot) await rm(dataRoot, { recursive: true, force: true });
      throw err;
    });
    const hostOf = (id: string) => netns?.address(id) ?? '127.0.0.1';
    const ports =
      options.basePort === undefined
        ? await freePorts(2 * n)
        : [...Array.from({ length: n }, (_, i) => options.basePort! + 1 + i), ...Array.from({ length: n }, (_, i) => options.basePort! + 101 + i)];
    const replicas: Replica[] = Array.from({ length: n }, (_, i) => ({
      id: `n${i + 1}`,
      host: hostOf(`n${i + 1}`),
      httpPort: ports[i]!,
      peerPort: ports[n + i]!,
      httpUrl: `http://${hostOf(`n${i + 1}`)}:${ports[i]!}`,
      dataDir: disks?.dataDir(`n${i + 1}`) ?? join(dataRoot, `n${i + 1}`),
      state: 'stopped',
      process: null,
    }));
    const file: ClusterFile = {
      protocol: options.protocol,
      secret: options.secret ?? randomBytes(16).toString('hex'),
      nodes: replicas.map((r) => nodeSpec(r, replicas, options)),
      ...(options.tuning === undefined ? {} : { raft: options.tuning }),
      ...(options.paxosTuning === undefined ? {} : { multipaxos: options.paxosTuning }),
      ...(options.pbftTuning === undefined ? {} : { pbft: options.pbftTuning }),
    };
    // PBFT: the cluster file carries every replica's public keys, so the keys exist first.
    if (options.protocol === 'pbft') await pbftNodeKeys(dataRoot, file.nodes);
    const clusterFilePath = join(dataRoot, 'cluster.json');
    await writeFile(clusterFilePath, JSON.stringify(file, null, 2));
    if (options.logDir !== undefined) await mkdir(options.logDir, { recursive: true });
    if (disks !== null) {
      await Promise.all(replicas.map((r) => disks.mount(r.id))).catch(async (err: unknown) => {
        await disks.unmountAll();
        await netns?.destroy();
        if (ownsDataRoot) await rm(dataRoot, { recursive: true, force: true });
        throw err;
      });
    }
    return new Cluster(options, replicas, clusterFilePath, dataRoot, ownsDataRoot, disks, netns, adminHeaders(file.secret));
  }

  replica(id: string): Replica {
    const r = this.replicas.find((x) => x.id === id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  /** Start a stopped or killed replica again, from its data directory (wiped first if asked). */
  async restart(id: string, opts: { wipe?: boolean } = {}): Promise<void> {
    const r = this.replica(id);
    if (r.state === 'up' || r.state === 'paused' || r.state === 'starting') await this.kill(id);
    if (opts.wipe === true) await (this.disks !== null ? this.disks.wipe(id) : rm(r.dataDir, { recursive: true, force: true }));
    await this.launch(r);
    await this.waitServing([r]);
  }

  async kill(id: string): Promise<void> {
    await this.signalAndWait(this.replica(id), 'SIGKILL', 'killed');
  }

  /** Graceful stop: SIGTERM, then SIGKILL after 5 s. */
  async stop(id: string): Promise<void> {
    const r = this.replica(id);
    const timer = setTimeout(() => r.process?.kill('SIGKILL'), 5000);
    if (r.state === 'paused') r.process?.kill('SIGCONT');
    await this.signalAndWait(r, 'SIGTERM', 'stopped');
    clearTimeout(timer);
  }

  pause(id: string): void {
    const r = this.replica(id);
    if (r.state !== 'up' || r.process === null) throw new Error(`${id} is ${r.state}, cannot pause`);
    r.process.kill('SIGSTOP');
    r.state = 'paused';
  }

  resume(id: string): void {
    const r = this.replica(id);
    if (r.state !== 'paused' || r.process === null) throw new Error(`${id} is ${r.state}, cannot resume`);
    r.process.kill('SIGCONT');
    r.state = 'up';
  }

  /** Stop every replica (SIGKILL: fast and exactly what a crash is) and clean up. */
  async stopAll(opts: { graceful?: boolean } = {}): Promise<void> {
    await Promise.all(
      this.replicas.map((r) => (opts.graceful === true ? this.stop(r.id) : this.kill(r.id)).catch(() => undefined)),
    );
    for (const log of this.logs.values()) log.end();
    await this.disks?.unmountAll();
    await this.netns?.destroy();
    if (this.ownsDataRoot) await rm(this.dataRoot, { recursive: true, force: true });
  }

  /** Whether the replicas run on power-loss filesystems (`lazyfs`), so that powerOff works. */
  get powerLossEnabled(): boolean {
    return this.disks !== null;
  }

  /**
   * A power failure of one replica (needs `lazyfs`): SIGKILL it, then its disk discards every
   * write it had not made durable. It stays down; restart(id) brings it back on what survived.
   */
  async powerOff(id: string): Promise<PowerLossResult> {
    const disks = this.requireDisks();
    await this.kill(id);
    return disks.powerLoss(id);
  }

  /**
   * A power failure of several replicas at once (all by default): every process is killed before
   * any disk loses what it had not made durable, as when they share one power supply.
   */
  async powerOffAll(ids: readonly string[] = this.replicas.map((r) => r.id)): Promise<Record<string, PowerLossResult>> {
    const disks = this.requireDisks();
    await Promise.all(ids.map((id) => this.kill(id)));
    return Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await disks.powerLoss(id)] as const)));
  }

  private requireDisks(): ReplicaDisks {
    if (this.disks === null) throw new Error('power off needs the replicas on the power-loss filesystem (ClusterOptions.lazyfs, --lazyfs)');
    return this.disks;
  }

  /**
   * Raft membership change (dissertation §4.2.1): start a new replica n<k> on free ports (or the
   * next base ports) with an empty data directory, then ask the cluster to add it as a learner
   * and promote it once it has caught up (`learner`: leave it a learner). The cluster file gains
   * the node; its bootstrap `voters` stay those of the first start, so the new replica waits for
   * the leader instead of campaigning.
   */
  async addReplica(opts: { id?: string; learner?: boolean; timeoutMs?: number } = {}): Promise<Replica> {
    if (this.options.protocol !== 'raft') throw new Error(`${this.options.protocol} has no membership changes`);
    if (opts.id !== undefined && !/^n[1-9][0-9]*$/.test(opts.id)) throw new Error(`replica ids are n1, n2, ...: not ${opts.id}`);
    const k = opts.id === undefined ? Math.max(...this.allIds().map((id) => Number(id.slice(1)))) + 1 : Number(opts.id.slice(1));
    if (this.replicas.some((x) => x.id === `n${k}`)) throw new Error(`n${k} is already a replica`);
    const [httpPort, peerPort] =
      this.options.basePort === undefined ? await freePorts(2) : [this.options.basePort + k, this.options.basePort + 100 + k];
    this.removed.splice(0, this.removed.length, ...this.removed.filter((x) => x.id !== `n${k}`));
    await this.netns?.addHost(`n${k}`);
    const host = this.hostOf(`n${k}`);
    const r: Replica = {
      id: `n${k}`,
      host,
      httpPort: httpPort!,
      peerPort: peerPort!,
      httpUrl: `http://${host}:${httpPort!}`,
      dataDir: this.disks?.dataDir(`n${k}`) ?? join(this.dataRoot, `n${k}`),
      state: 'stopped',
      process: null,
    };
    // An existing data directory is kept: a replica added again under its old id must come back
    // with its votes (a wiped voter could vote twice in one term; protocols/raft/README.md).
    await this.options.links?.addNode(r.id, { host: r.host, port: r.peerPort });
    try {
      await this.addToClusterFile(r);
      await this.routeToNewReplica(r);
    } catch (err) {
      await this.options.links?.removeNode(r.id);
      throw err;
    }
    this.replicas.push(r);
    await this.launch(r);
    await this.waitServing([r]);
    const urls = this.replicas.filter((x) => x.state === 'up' && x.id !== r.id).map((x) => x.httpUrl);
    await addMember(urls, this.adminHeaders, { id: r.id, host: r.host, httpPort: r.httpPort, peerPort: r.peerPort }, opts.learner ?? false, opts.timeoutMs);
    return r;
  }

  /**
   * Raft membership change (dissertation §4.2.2): remove `id` from the configuration (the leader
   * too: it steps down), then stop its process; it is no longer one of `replicas`.
   */
  async removeReplica(id: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    const r = this.replica(id);
    const urls = this.replicas.filter((x) => x.state === 'up').map((x) => x.httpUrl);
    await removeMember(urls, this.adminHeaders, id, opts.timeoutMs);
    await this.stop(id);
    this.replicas.splice(this.replicas.indexOf(r), 1);
    this.removed.push(r);
    await this.options.links?.removeNode(id);
  }

  /** The new replica joins the cluster file; its bootstrap `voters` stay those of the first start. */
  private async addToClusterFile(r: Replica): Promise<void> {
    const file = JSON.parse(await readFile(this.clusterFilePath, 'utf8')) as ClusterFile;
    file.voters ??= file.nodes.map((n) => n.id);
    file.nodes = file.nodes.filter((n) => n.id !== r.id);
    file.nodes.push({ id: r.id, host: r.host, httpPort: r.httpPort, peerPort: r.peerPort });
    // Every replica started from now on (the new one, a restarted old one) dials through the proxy.
    for (const spec of file.nodes) withDial(spec, file.nodes.map((x) => x.id), this.options);
    await writeFile(this.clusterFilePath, JSON.stringify(file, null, 2));
  }

  /**
   * Behind the fault proxy, the running replicas would learn the new replica's own address from
   * its configuration entry and go around the proxy: first pin their link to it on the proxy
   * (PUT /admin/debug/dial/:id, nodes/debug/debug-routes.ts). A replica that is down reads the
   * route from the cluster file when it starts.
   */
  private async routeToNewReplica(added: Replica): Promise<void> {
    const dial = this.options.dial;
    if (dial === undefined) return;
    for (const r of this.replicas.filter((x) => x.state === 'up')) {
      const via = dial(r.id, added.id);
      if (via === undefined) continue;
      const { host, port } = parseHostPort(via);
      const res = await fetch(`${r.httpUrl}/admin/debug/dial/${added.id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...this.adminHeaders },
        body: JSON.stringify({ host, port }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`${r.id} could not route ${added.id} through the fault proxy (${res.status}; it needs --debug-api)`);
    }
  }

  /**
   * PBFT: from its next start, replica `id` misbehaves in `mode` (`--byzantine MODE`), or behaves
   * again (null). The nemesis's `byzantine` fault restarts it around this.
   */
  setByzantine(id: string, mode: string | null): void {
    this.replica(id);
    const modes = { ...this.options.byzantine };
    if (mode === null) delete modes[id];
    else modes[id] = mode;
    this.options.byzantine = modes;
  }

  /** Every replica id ever started here, removed ones included (ids are never reused). */
  private allIds(): string[] {
    return [...this.replicas, ...this.removed].map((r) => r.id);
  }

  /** Wait until a majority of the running replicas agree on a leader that says it leads. */
  async waitForLeader(timeoutMs = 15_000, exclude: string[] = []): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.currentLeader(exclude);
      if (leader !== null) return leader;
      if (Date.now() > deadline) throw new Error(`no leader elected within ${timeoutMs} ms (${await this.describeRoles(exclude)})`);
      await sleep(100);
    }
  }

  /** What each running replica says of itself, for a failure message: `n2 candidate term 7 leader -, ...`. */
  private async describeRoles(exclude: string[]): Promise<string> {
    const parts = await Promise.all(
      this.running(exclude).map(async (r) => {
        const s = await this.status(r.id);
        if (s === null) return `${r.id} no /status`;
        const epoch = s['term'] ?? (s['ballot'] as { round?: unknown } | undefined)?.round ?? s['view'];
        return `${r.id} ${String(s['role'] ?? '?')} term ${String(epoch ?? '?')} leader ${String(s['leader'] ?? '-')}`;
      }),
    );
    return parts.join(', ') || 'no replica running';
  }

  async status(id: string): Promise<Record<string, unknown> | null> {
    try {
      const res = await fetch(this.replica(id).httpUrl + '/status', { signal: AbortSignal.timeout(1000) });
      return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  /** The replicas that are up, but those in `exclude`. */
  private running(exclude: string[]): Replica[] {
    return this.replicas.filter((r) => r.state === 'up' && !exclude.includes(r.id));
  }

  private async currentLeader(exclude: string[]): Promise<string | null> {
    const up = this.running(exclude);
    const statuses = await Promise.all(up.map((r) => this.status(r.id)));
    for (const s of statuses) {
      if (s?.['role'] !== 'leader') continue;
      const id = s['id'] as string;
      const agree = statuses.filter((x) => x?.['leader'] === id).length;
      if (agree > this.replicas.length / 2 || agree === up.length) return id;
    }
    return null;
  }

  private async launch(r: Replica): Promise<void> {
    // On a power-loss filesystem the replica creates its data directory itself (and must make it durable).
    if (this.disks === null) await mkdir(r.dataDir, { recursive: true });
    else await this.disks.mount(r.id);
    const args = [
      ...replicaV8Flags(),
      ...(await replicaNodeArgs(repoRoot)),
      '--cluster', this.clusterFilePath,
      '--id', r.id,
      '--data-dir', r.dataDir,
      '--exit-with-parent',
      '--log-level', this.options.logLevel ?? 'info',
      ...(this.options.protocol === 'pbft' ? pbftReplicaArgs(this.dataRoot, r.id, this.options.byzantine) : []),
      ...(this.options.replicaArgs ?? []),
    ];
    const env = withReplicaMallocEnv(this.options.clocks?.launchEnv(r.id, process.env) ?? process.env);
    // In its own namespace: ip netns exec <ns> env <the clock's variables> node ... (netns-hosts.ts).
    const cmd = this.netns === null ? { command: process.execPath, args } : this.netns.command(r.id, process.execPath, args, addedEnv(process.env, env));
    const child = spawn(cmd.command, cmd.args, { cwd: repoRoot, env: this.netns === null ? env : process.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    track(child);
    r.process = child;
    r.state = 'starting';
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) this.options.clocks?.exited(child.pid);
      this.options.onExit?.(r.id, code, signal);
      if (r.process === child) {
        r.process = null;
        if (r.state !== 'killed') r.state = 'stopped';
      }
    });
    this.pipeLogs(r.id, child);
  }

  private pipeLogs(id: string, child: ChildProcess): void {
    let log = this.logs.get(id);
    if (log === undefined && this.options.logDir !== undefined) {
      log = createWriteStream(join(this.options.logDir, `${id}.log`), { flags: 'a' });
      this.logs.set(id, log);
    }
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        log?.write(line + '\n');
        this.keepTail(id, line);
        this.options.onLog?.(id, line);
      });
    }
  }

  private keepTail(id: string, line: string): void {
    const tail = this.tails.get(id) ?? [];
    tail.push(line.length > 500 ? line.slice(0, 500) + '…' : line);
    if (tail.length > TAIL_LINES) tail.shift();
    this.tails.set(id, tail);
  }

  /** Why replica r is gone, in its own words: the last lines it printed. */
  private exitReport(r: Replica): string {
    const tail = this.tails.get(r.id) ?? [];
    return tail.length === 0 ? 'it printed nothing' : `its last lines:\n${tail.join('\n')}`;
  }

  private async signalAndWait(r: Replica, signal: NodeJS.Signals, state: ReplicaState): Promise<void> {
    const child = r.process;
    if (child === null || child.exitCode !== null || child.signalCode !== null) {
      r.state = state === 'killed' && r.state !== 'stopped' ? 'killed' : r.state;
      return;
    }
    const exited = once(child, 'exit');
    r.state = state;
    child.kill(signal);
    await exited;
  }

  private async waitServing(which: Replica[] = this.replicas, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      which.map(async (r) => {
        while (!(await isHealthy(r.httpUrl))) {
          if (r.process === null) {
            await sleep(50); // the last lines may still be in the pipe
            throw new Error(`replica ${r.id} exited during start; ${this.exitReport(r)}`);
          }
          if (Date.now() > deadline) throw new Error(`replica ${r.id} did not start serving within ${timeoutMs} ms`);
          await sleep(50);
        }
        r.state = 'up';
      }),
    );
  }
}

async function prepareDisks(dataRoot: string, options: ClusterOptions): Promise<ReplicaDisks | null> {
  if (options.lazyfs === undefined || options.lazyfs === false) return null;
  const maxDirtyBytes = options.lazyfs === true ? undefined : options.lazyfs.maxDirtyBytes;
  const onLog = options.onLog ?? ((id: string, line: string) => console.error(`[${id}] ${line}`));
  return ReplicaDisks.prepare(dataRoot, { ...(maxDirtyBytes === undefined ? {} : { maxDirtyBytes }), onLog: (id, line) => onLog(id, `lazyfs: ${line}`) });
}

/** `hosts: 'netns'`: a namespace per replica on a bridge of the run (harness/hosts). */
async function makeHosts(options: ClusterOptions, n: number): Promise<NetnsHosts | null> {
  if ((options.hosts ?? 'loopback') === 'loopback') return null;
  return NetnsHosts.create(Array.from({ length: n }, (_, i) => `n${i + 1}`));
}

/** The variables `env` sets or changes relative to `base` (what env(1) must set in a namespace). */
function addedEnv(base: NodeJS.ProcessEnv, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && base[k] !== v) out[k] = v;
  return out;
}

function nodeSpec(r: Replica, all: Replica[], options: ClusterOptions): NodeSpec {
  const spec: NodeSpec = { id: r.id, host: r.host, httpPort: r.httpPort, peerPort: r.peerPort };
  return withDial(spec, all.map((x) => x.id), options);
}

/** With the fault proxy (`options.dial`): where `spec`'s replica dials each of `ids`. */
function withDial(spec: NodeSpec, ids: string[], options: ClusterOptions): NodeSpec {
  if (options.dial === undefined) return spec;
  const dial: Record<string, string> = {};
  for (const other of ids) {
    const via = other === spec.id ? undefined : options.dial(spec.id, other);
    if (via !== undefined) dial[other] = via;
  }
  spec.dial = dial;
  return spec;
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url + '/health', { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
