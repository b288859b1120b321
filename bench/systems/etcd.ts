/**
 * The `etcd` baseline: a 3-member etcd cluster on loopback, fresh temporary data directories,
 * etcd's default durability (it fsyncs its WAL), driven through its v3 JSON gateway. Skipped
 * with a note when no `etcd` binary is on PATH (Debian: `apt-get install etcd-server`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePorts } from '../../harness/cluster/free-port.js';
import { onCleanup } from '../cleanup.js';
import { scrapeCounters, type CounterNames } from '../prom-metrics.js';
import type { RunningSystem, SystemDefinition, SystemStartOptions } from './types.js';

/**
 * etcd has no per-message counter; members' WAL fsyncs and committed entries give a
 * comparable entries-per-fsync (committed index summed over members / WAL fsyncs).
 */
const etcdCounterNames: CounterNames = {
  fsyncs: 'etcd_disk_wal_fsync_duration_seconds_count',
  entriesPersisted: 'etcd_server_proposals_committed_total',
  peerMessagesSent: null,
};

export function etcdBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : null;
}

export const etcdBaseline: SystemDefinition = {
  name: 'etcd',
  kind: 'baseline',
  failover: true,
  description: 'etcd (Go, Raft, bbolt + fsynced WAL) as a reference, 3 members, JSON gateway',
  unavailable: () =>
    Promise.resolve(etcdBinary() === null ? 'no `etcd` binary on PATH (Debian/Ubuntu: apt-get install etcd-server)' : null),
  start: startEtcd,
};

interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  /** The wrapper shell; it kills etcd when its stdin closes (so also when we die). */
  wrapper: ChildProcess | null;
  pid: number;
}

async function startEtcd(options: SystemStartOptions): Promise<RunningSystem> {
  const binary = etcdBinary();
  if (binary === null) throw new Error('etcd is not on PATH');
  const n = Math.max(1, options.nodes);
  const root = await mkdtemp(join(tmpdir(), 'consensus-lab-etcd-'));
  const ports = await freePorts(2 * n);
  const members: Member[] = Array.from({ length: n }, (_, i) => ({
    name: `e${i + 1}`,
    clientUrl: `http://127.0.0.1:${ports[i]!}`,
    peerUrl: `http://127.0.0.1:${ports[n + i]!}`,
    dataDir: join(root, `e${i + 1}`),
    wrapper: null,
    pid: -1,
  }));
  const killAll = (): void => {
    for (const m of members) {
      if (m.pid > 0) tryKill(m.pid);
      m.wrapper?.kill('SIGKILL');
    }
  };
  const stop = async (): Promise<void> => {
    killAll();
    await Promise.all(members.map((m) => waitGone(m)));
    await rm(root, { recursive: true, force: true });
  };
  const unregister = onCleanup(stop, killAll);
  try {
    const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const token = `bench-${process.pid}-${Date.now()}`;
    await Promise.all(members.map((m) => launch(binary, m, initialCluster, token, options.logDir ?? root)));
    const leaderUrl = await waitForLeader(members, 30_000);
    const urls = members.map((m) => m.clientUrl);
    const metricsUrls = urls.map((u) => `${u}/metrics`);
    return {
      name: 'etcd',
      nodes: n,
      dialect: 'etcd',
      targetUrl: leaderUrl,
      urls,
      metricsUrls,
      pids: () => members.map((m) => m.pid).filter((p) => p > 0),
      replicas: () => members.map((m) => ({ id: m.name, url: m.clientUrl, pid: m.pid })),
      leaderCounter: 'etcd_server_leader_changes_seen_total',
      readCounters: () => scrapeCounters(metricsUrls, etcdCounterNames),
      killLeader: async () => {
        const url = await waitForLeader(members, 10_000);
        const m = members.find((x) => x.clientUrl === url)!;
        const killedAtMs = Date.now();
        tryKill(m.pid);
        return { replica: m.name, killedAtMs };
      },
      stop: async () => {
        unregister();
        await stop();
      },
    };
  } catch (err) {
    unregister();
    await stop();
    throw err;
  }
}

async function launch(binary: string, m: Member, initialCluster: string, token: string, logDir: string): Promise<void> {
  const args = [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', m.clientUrl,
    '--advertise-client-urls', m.clientUrl,
    '--listen-peer-urls', m.peerUrl,
    '--initial-advertise-peer-urls', m.peerUrl,
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', token,
    '--logger', 'zap',
    '--log-level', 'warn',
  ];
  // `read` returns when our end of the pipe closes, whether we stopped it or died.
  const script = '"$ETCD_BIN" "$@" >>"$ETCD_LOG" 2>&1 & echo $!; read _ignored; kill -9 $! 2>/dev/null; wait';
  const wrapper = spawn('/bin/sh', ['-c', script, 'sh', ...args], {
    env: { ...process.env, ETCD_BIN: binary, ETCD_LOG: join(logDir, `${m.name}.log`) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  m.wrapper = wrapper;
  const line = await new Promise<string>((resolve, reject) => {
    const onExit = (): void => reject(new Error(`etcd ${m.name} wrapper exited during start`));
    wrapper.once('exit', onExit);
    createInterface({ input: wrapper.stdout! }).once('line', (l) => {
      wrapper.off('exit', onExit);
      resolve(l);
    });
  });
  m.pid = Number(line);
}

async function waitForLeader(members: Member[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const m of members) {
      if (m.pid <= 0 || !alive(m.pid)) continue;
      const status = await memberStatus(m.clientUrl);
      if (status !== null && status.leader !== '0' && status.leader === status.memberId) return m.clientUrl;
    }
    if (Date.now() > deadline) throw new Error(`etcd elected no leader within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function memberStatus(url: string): Promise<{ leader: string; memberId: string } | null> {
  try {
    const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
    if (!res.ok) return null;
    const body = (await res.json()) as { leader?: string; header?: { member_id?: string } };
    return { leader: String(body.leader ?? '0'), memberId: String(body.header?.member_id ?? '') };
  } catch {
    return null;
  }
}

/** Running and not a zombie (a killed etcd stays a zombie until its wrapper shell reaps it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function waitGone(m: Member): Promise<void> {
  const w = m.wrapper;
  if (w !== null && w.exitCode === null && w.signalCode === null) {
    w.stdin?.end();
    await once(w, 'exit');
  }
  for (let i = 0; i < 100 && m.pid > 0 && alive(m.pid); i++) await new Promise((r) => setTimeout(r, 20));
}
