/**
 * One chaos run: a fresh cluster with the fault proxy on every link, the workload and the
 * seeded nemesis schedule, a final heal and recovery period, the final state, and the checks
 * (linearizability, no lost writes, availability). Writes `<out>/<protocol>-<time>/` with
 * history.jsonl, results.json, each replica's log and report.html, and points `<out>/latest`
 * at it. Every process and socket it starts is stopped in a finally block.
 */
import { mkdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { byzantineF } from '../../protocols/common/quorum.js';
import { SeededRng } from '../../protocols/common/rng.js';
import type { PaxosFileTuning } from '../../nodes/config.js';
import { checkHistory } from '../checker/check-history.js';
import { ReplicaClocks } from '../clock/replica-clocks.js';
import { Cluster, type ClusterOptions } from '../cluster/cluster.js';
import { KernelPartitions } from '../hosts/kernel-partitions.js';
import { clearBandwidth, limitBandwidth } from '../hosts/bandwidth.js';
import type { NetnsHosts } from '../hosts/netns-hosts.js';
import type { BandwidthControl } from '../nemesis/fault-kinds.js';
import { needsPowerLossFs } from '../nemesis/power-loss-faults.js'; // also registers power-loss, power-loss-all
import { NemesisRunner } from '../nemesis/run-schedule.js';
import { planSchedule } from '../nemesis/schedule.js';
import { FaultProxy } from '../proxy/fault-proxy.js';
import { Workload } from '../workload/workload.js';
import { checkAvailability } from './availability.js';
import { readFinalValues } from './final-state.js';
import { checkHealthySide, healthySideSummary, impairedBy } from './healthy-side.js';
import { HistoryRecorder, isClient, operations, type ClientEvent } from './history.js';
import { checkLostWrites } from './lost-writes.js';
import { describePowerLosses, summarizePowerLosses } from './power-loss-summary.js';
import { writeReport } from './report.js';
import { defaultChaosOptions, type ChaosOptions, type ChaosResult, type NetworkSummary, type ResultsFile, type Verdict } from './results-file.js';
import { checkStaleReads, staleReadsSummary, withoutReads } from './stale-reads.js';
export { defaultChaosOptions, type ChaosOptions, type ChaosResult, type NetworkSummary, type ResultsFile, type Verdict };


export async function runChaos(partial: Partial<ChaosOptions>): Promise<ChaosResult> {
  const o: ChaosOptions = { ...defaultChaosOptions, ...partial };
  const log = o.log ?? (() => undefined);
  const startedAt = new Date();
  const dirName = `${o.protocol}-${stamp(startedAt)}`;
  const outRoot = resolve(o.out);
  const dir = join(outRoot, dirName);
  await mkdir(dir, { recursive: true });
  const ids = Array.from({ length: o.nodes }, (_, i) => `n${i + 1}`);
  // PBFT survives f faulty replicas (crashed, paused or Byzantine), not a minority.
  const maxImpaired = o.protocol === 'pbft' && !o.allowMajorityDown ? byzantineF(o.nodes) : undefined;
  const schedule = planSchedule({
    faults: o.nemesis,
    ids,
    timeMs: o.timeS * 1000,
    intervalMs: o.intervalS * 1000,
    seed: o.seed,
    allowMajorityDown: o.allowMajorityDown,
    ...(maxImpaired === undefined ? {} : { maxImpaired }),
  });
  const rng = new SeededRng(o.seed ^ 0x5eed);
  const recorder = new HistoryRecorder();
  recorder.streamTo(join(dir, 'history.jsonl'));

  let proxy: FaultProxy | null = null;
  let kernel: KernelPartitions | null = null;
  let network: NetworkSummary = { hosts: o.hosts, partitionsBy: o.hosts === 'netns' ? 'kernel' : 'proxy' };
  let cluster: Cluster | null = null;
  let workload: Workload | null = null;
  let runner: NemesisRunner | null = null;
  let clocks: ReplicaClocks | null = null;
  let healMs: number | null = null;
  let runStartMs = 0;
  let workloadEndMs: number | null = null;
  let finals: Awaited<ReturnType<typeof readFinalValues>> = { byKey: {}, converged: false, notes: ['not read'] };
  const aborted = () => o.signal?.aborted === true;
  try {
    log(`chaos: ${o.protocol}, ${o.nodes} nodes, nemesis ${o.nemesis.join(',') || 'none'}, ${o.timeS} s, seed ${o.seed}; ${schedule.faults.length} faults planned`);
    // The proxy's rng is forked either way, so that a seed's workload is the same in both modes.
    const proxyRng = rng.fork();
    const netns = o.hosts === 'netns';
    if (!netns) proxy = await FaultProxy.start({ ids, rng: proxyRng, clockMs: () => recorder.nowMs() });
    const replicaArgs = [...(o.unsafeLocalReads ? ['--unsafe-local-reads'] : []), ...(o.unsafeNoFsync ? ['--unsafe-no-fsync'] : [])];
    // The clock nemesis: every replica under libfaketime, its clock file in the run's directory.
    if (o.nemesis.includes('clock')) clocks = await ReplicaClocks.create(join(dir, 'clocks'), ids);
    cluster = await Cluster.create({
      protocol: o.protocol,
      nodes: o.nodes,
      logLevel: 'warn',
      ...(proxy === null ? { hosts: 'netns' as const } : { dial: proxy.dial }),
      logDir: dir,
      replicaArgs,
      ...(clocks === null ? {} : { clocks }),
      ...clusterTuning(o),
      // power-loss, power-loss-all: every replica's data directory on its own power-loss filesystem
      ...(needsPowerLossFs(o.nemesis) ? { lazyfs: true } : {}),
    });
    const c = cluster;
    for (const r of c.replicas) proxy?.setTarget(r.id, { host: r.host, port: r.peerPort });
    if (c.netns !== null) {
      const hosts = c.netns;
      // A cut link stops what `from` sends to both ports `to` listens on (partition-rules.ts).
      kernel = new KernelPartitions({ hosts, targets: () => c.replicas.map((r) => ({ id: r.id, ports: [r.peerPort, r.httpPort] })), clockMs: () => recorder.nowMs() });
      network = {
        ...network,
        subnet: hosts.subnet.cidr,
        bridge: hosts.names.bridge,
        replicas: Object.fromEntries(c.replicas.map((r) => [r.id, { address: r.host, namespace: hosts.namespace(r.id) }])),
      };
      log(`hosts: netns, subnet ${hosts.subnet.cidr} on bridge ${hosts.names.bridge}; partitions by iptables in each namespace`);
    }
    // Cluster.create + restart of every (stopped) replica = Cluster.start, with the proxy's
    // targets set in between.
    await Promise.all(c.replicas.map((r) => c.restart(r.id)));
    const leader = await c.waitForLeader(20_000);
    log(`cluster up, leader ${leader}; running the workload for ${o.timeS} s`);
    if (aborted()) throw new AbortError();

    const endpoints = () => c.replicas.map((r) => ({ id: r.id, url: r.httpUrl }));
    workload = new Workload({
      urls: endpoints,
      recorder,
      rng: rng.fork(),
      clients: o.clients,
      keys: o.keys,
      mix: o.mix,
      ratePerSec: o.ratePerSec,
      timeoutMs: o.opTimeoutMs,
      readConsistency: o.readConsistency,
      failover: o.clientFailover,
    });
    runner = new NemesisRunner(
      {
        ids,
        cluster: c,
        ...(proxy === null ? {} : { proxy }),
        ...(kernel === null ? {} : { kernel }),
        ...(c.netns === null ? {} : { bandwidth: kernelBandwidth(c.netns) }),
        rng: rng.fork(),
        findLeader: () => c.waitForLeader(1000).catch(() => null),
        ...(clocks === null ? {} : { clocks }),
      },
      recorder,
      o.allowMajorityDown,
      maxImpaired,
    );
    runStartMs = recorder.nowMs();
    workload.start();
    const schedulePromise = runner.run(schedule, runStartMs);
    await sleepOrAbort(o.timeS * 1000, o.signal);
    await runner.heal(ids);
    await schedulePromise;
    healMs = recorder.nowMs();
    log(`healed at ${(healMs / 1000).toFixed(1)} s; recovering for ${o.recoveryS} s`);
    await sleepOrAbort(o.recoveryS * 1000, o.signal);
    await workload.stop();
    workloadEndMs = recorder.nowMs();
    if (aborted()) throw new AbortError();
    log('reading the final state of every replica');
    finals = await readFinalValues(endpoints(), Array.from({ length: o.keys }, (_, i) => `k${i + 1}`));
  } catch (err) {
    if (!(err instanceof AbortError)) throw err;
  } finally {
    await workload?.stop().catch(() => undefined);
    runner?.abort();
    await cluster?.stopAll().catch(() => undefined);
    clocks?.close();
    await proxy?.close().catch(() => undefined);
    await recorder.close();
  }
  const endMs = recorder.nowMs();

  if (aborted()) {
    log('aborted: no checks run');
    return { verdict: 'aborted', exitCode: 130, dir, reportPath: join(dir, 'report.html'), summary: 'aborted' };
  }

  log('checking linearizability');
  const clientEvents = recorder.entries.filter(isClient);
  const stale = o.readConsistency === 'stale';
  const lin = linearizability(stale ? withoutReads(clientEvents) : clientEvents, o.checkerTimeoutS * 1000);
  const ops = operations(recorder.entries);
  const staleReads = stale ? checkStaleReads(ops, () => linearizability(clientEvents, o.checkerTimeoutS * 1000).valid) : undefined;
  const lostWrites = { ...checkLostWrites(ops, finals), notes: finals.notes };
  const periods = runner?.periods ?? [];
  const availability = checkAvailability(
    ops,
    periods.map((p) => ({ fault: p.fault, startMs: p.startMs, endMs: p.endMs })),
    { healMs, endMs: workloadEndMs ?? endMs, startMs: runStartMs },
  );
  const healthySide = checkHealthySide(
    ops,
    periods.map((p) => ({ fault: p.fault, startMs: p.startMs, endMs: p.endMs, impaired: impairedBy(p, schedule.faults.find((f) => f.id === p.id), ids) })),
    availability.byPeriod,
    { healMs, endMs: workloadEndMs ?? endMs },
  );
  const phantom = (staleReads?.phantom.length ?? 0) > 0;
  const verdict: Verdict = lin.valid === false || !lostWrites.valid || phantom ? 'invalid' : lin.valid === 'unknown' ? 'unknown' : 'valid';
  const powerLoss = summarizePowerLosses(recorder.entries);
  const results: ResultsFile = {
    options: withoutCallbacks(o),
    verdict,
    startedAt: startedAt.toISOString(),
    durationMs: endMs,
    schedule,
    periods,
    linkEvents: kernel?.events ?? proxy?.events ?? [],
    network,
    runStartMs,
    healMs,
    endMs,
    workload: workload?.stats ?? { invoked: 0, ok: 0, fail: 0, info: 0, processes: 0 },
    linearizability: lin,
    lostWrites,
    finalValues: finals.byKey,
    availability,
    ...(powerLoss === null ? {} : { powerLoss }),
    healthySide,
    ...(staleReads === undefined ? {} : { staleReads }),
  };
  await writeFile(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  const reportPath = join(dir, 'report.html');
  await writeFile(reportPath, writeReport(results, recorder.entries));
  await updateLatest(outRoot, dirName);
  const summary = summarize(results);
  return { verdict, exitCode: verdict === 'valid' ? 0 : verdict === 'invalid' ? 1 : 2, dir, reportPath, summary };
}

function linearizability(events: ClientEvent[], timeoutMs: number): ResultsFile['linearizability'] {
  try {
    const r = checkHistory(events, { timeoutMs });
    return { valid: r.valid, keys: r.keys, stats: r.stats, ...(r.violation === undefined ? {} : { violation: r.violation }) };
  } catch (err) {
    return { valid: 'skipped', reason: (err as Error).message };
  }
}

function summarize(r: ResultsFile): string {
  const lines: string[] = [];
  const lin = r.linearizability;
  const w = r.workload;
  lines.push(`operations: ${w.invoked} (${w.ok} ok, ${w.fail} fail, ${w.info} info) by ${w.processes} processes`);
  lines.push(`hosts: ${r.network.hosts}${r.network.subnet === undefined ? '' : ` (${r.network.subnet}, bridge ${r.network.bridge})`}; partitions by the ${r.network.partitionsBy === 'kernel' ? 'kernel (iptables)' : 'fault proxy'}`);
  lines.push(`faults: ${r.periods.map((p) => `${p.fault}(${p.targets.join(',')})`).join(' ') || 'none'}`);
  if (r.powerLoss !== undefined) lines.push(describePowerLosses(r.powerLoss));
  if (lin.valid === 'skipped') lines.push(`linearizability: not checked (${lin.reason})`);
  else {
    lines.push(`linearizability: ${lin.valid === true ? 'valid' : lin.valid === false ? 'NOT LINEARIZABLE' : 'unknown (checker time budget ran out)'} (${lin.stats.ops} ops, ${lin.stats.elapsedMs.toFixed(0)} ms)`);
    const v = lin.violation;
    if (v !== undefined) {
      lines.push(`  key ${v.key}: after a linearizable prefix of ${v.prefix.length} ops the state is ${JSON.stringify(v.stateAfter)}; none of these can go next:`);
      for (const op of v.ops.slice(0, 6)) lines.push(`    process ${op.process} ${op.f} ${JSON.stringify(op.value)} (${op.status}): ${op.reason}`);
    }
  }
  const lw = r.lostWrites;
  lines.push(
    `no lost writes: ${lw.valid ? 'valid' : 'INVALID'} (${lw.acknowledgedWrites} acknowledged writes; ${lw.lost.length} lost, ${lw.divergent.length} divergent keys, ${lw.unexplained.length} unexplained final values${lw.notes.length > 0 ? '; ' + lw.notes.join('; ') : ''})`,
  );
  if (r.staleReads !== undefined) lines.push(staleReadsSummary(r.staleReads));
  lines.push(healthySideSummary(r.healthySide, r.options.clientFailover));
  const a = r.availability;
  lines.push(`latency (ok+fail): p50 ${a.latencyMs.all.p50.toFixed(1)} ms, p99 ${a.latencyMs.all.p99.toFixed(1)} ms; answered after heal: ${a.answeredRatioAfterHeal === null ? 'n/a' : (a.answeredRatioAfterHeal * 100).toFixed(0) + '%'}`);
  return lines.join('\n');
}

async function updateLatest(outRoot: string, dirName: string): Promise<void> {
  const link = join(outRoot, 'latest');
  await unlink(link).catch(() => undefined);
  await symlink(dirName, link).catch(() => undefined);
}

function withoutCallbacks(o: ChaosOptions): ResultsFile['options'] {
  const { log: _log, signal: _signal, ...rest } = o;
  return rest;
}

/** 2025-11-26T06:51:02.123Z → 20251126T065102123Z (unique enough, sorts by time). */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:.]/g, '');
}

class AbortError extends Error {}

function sleepOrAbort(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

/** The CLI's tuning flags (tick and election timeout) go to the protocol's own section. */
function clusterTuning(o: ChaosOptions): Pick<ClusterOptions, 'tuning' | 'paxosTuning' | 'pbftTuning'> {
  if (o.tuning === undefined) return {};
  if (o.protocol === 'raft') return { tuning: o.tuning };
  if (o.protocol === 'pbft') {
    const { tickMs, requestTimeoutMs } = o.tuning;
    return { pbftTuning: { ...(tickMs === undefined ? {} : { tickMs }), ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) } };
  }
  const { tickMs, electionTimeoutTicks, requestTimeoutMs } = o.tuning;
  const paxosTuning: PaxosFileTuning = {};
  if (tickMs !== undefined) paxosTuning.tickMs = tickMs;
  if (electionTimeoutTicks !== undefined) paxosTuning.electionTimeoutTicks = electionTimeoutTicks;
  if (requestTimeoutMs !== undefined) paxosTuning.requestTimeoutMs = requestTimeoutMs;
  return { paxosTuning };
}

/** The `bandwidth` nemesis with hosts of their own: tc tbf on each replica's veth (harness/hosts/bandwidth.ts). */
function kernelBandwidth(hosts: NetnsHosts): BandwidthControl {
  const limited = new Set<string>();
  return {
    limit: async (ids, bytesPerSec) => {
      for (const id of ids) {
        await limitBandwidth(hosts, id, bytesPerSec);
        limited.add(id);
      }
    },
    clearAll: async () => {
      for (const id of limited) await clearBandwidth(hosts, id);
      limited.clear();
    },
  };
}
