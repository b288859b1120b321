/**
 * `npm run chaos -- --protocol raft --nemesis partition,kill,pause --time 60 --seed 7`
 *
 * Exit codes: 0 linearizable and no lost writes, 1 not linearizable or lost writes, 2 the
 * checker could not decide in time, 64 bad usage, 130 interrupted. See harness/README.md.
 */
import { parseArgs } from 'node:util';
import { protocols, type Protocol } from '../../nodes/config.js';
import { faketimeMissing } from '../clock/faketime-lib.js';
import { hostsModes, type HostsMode } from '../cluster/cluster.js';
import { killAllNow } from '../cluster/process-registry.js';
import { netnsMissing, NetnsUnavailable } from '../hosts/host-tools.js';
import { LazyFsUnavailable } from '../lazyfs/build.js';
import { faultNames } from '../nemesis/fault-kinds.js';
import { readConsistencies, type ReadConsistency } from '../workload/kv-op.js';
import { defaultMix, parseMix } from '../workload/workload.js';
import { defaultChaosOptions, runChaos, type ChaosOptions } from './run-chaos.js';

const usage = `usage: npm run chaos -- [options]
  --protocol raft|multipaxos|pbft  protocol of the cluster (default raft)
  --nemesis LIST              comma-separated faults: ${faultNames().join(', ')} (default partition,kill,pause; "none" for none)
                              power-loss and power-loss-all put every replica on its own power-loss filesystem
                              (harness/lazyfs: root, /dev/fuse, Debian fuse3 libfuse3-dev pkg-config gcc)
  --time S                    seconds of workload under faults (default 60)
  --interval S                seconds between fault starts (default 5)
  --seed N                    seed of the fault schedule and the workload (default 1)
  --nodes N                   replicas (default 3; 4 for pbft)
  --clients N                 concurrent client processes (default 10)
  --keys N                    keys (default 5)
  --rate N                    operations per second over all clients, 0 = unlimited (default 200)
  --mix read:4,write:3,cas:2,delete:1   operation mix (weights)
  --recovery S                seconds of workload after the final heal (default 10)
  --op-timeout MS             client timeout per operation, then info (default 3000)
  --checker-timeout S         linearizability checker budget (default 60)
  --allow-majority-down       let kill/pause take down a majority at once (PBFT: more than f)
  --unsafe-local-reads        replicas answer linearizable reads locally (a bug, on purpose)
  --unsafe-no-fsync           replicas do not fsync their log (a bug, on purpose)
  --read-consistency MODE     reads are linearizable (ReadIndex, default), lease (Raft's leader
                              lease: trusts the clocks) or stale (local state: reads are left out
                              of the linearizability check, see harness/README.md)
  --client-failover           a client leaves a replica after a timeout, a refused connection or
                              503 and pins another (as etcd's client does)
  --hosts loopback|netns      loopback (default): every replica on 127.0.0.1, links through the fault
                              proxy; netns: every replica in its own network namespace on a bridge of
                              the run, partitions by iptables in the kernel (DROP or REJECT, a third
                              of them one-way), the bandwidth nemesis by tc tbf; needs root and
                              Debian's iproute2 and iptables; the delay nemesis needs the proxy (no
                              tc netem on this kernel)
  --out DIR                   where runs are stored (default store)
  --election-timeout-ticks N, --tick-ms N   Raft tuning (defaults from nodes/config.ts)`;

function parse(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      protocol: { type: 'string', default: 'raft' },
      nemesis: { type: 'string', default: defaultChaosOptions.nemesis.join(',') },
      time: { type: 'string' },
      interval: { type: 'string' },
      seed: { type: 'string' },
      nodes: { type: 'string' },
      clients: { type: 'string' },
      keys: { type: 'string' },
      rate: { type: 'string' },
      mix: { type: 'string' },
      recovery: { type: 'string' },
      'op-timeout': { type: 'string' },
      'checker-timeout': { type: 'string' },
      'allow-majority-down': { type: 'boolean', default: false },
      'unsafe-local-reads': { type: 'boolean', default: false },
      'unsafe-no-fsync': { type: 'boolean', default: false },
      'read-consistency': { type: 'string', default: 'linearizable' },
      'client-failover': { type: 'boolean', default: false },
      hosts: { type: 'string', default: 'loopback' },
      out: { type: 'string', default: 'store' },
      'election-timeout-ticks': { type: 'string' },
      'tick-ms': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const protocol = values.protocol as Protocol;
  if (!protocols.includes(protocol)) throw new UsageError(`unknown protocol ${values.protocol}; known: ${protocols.join(', ')}`);
  const num = (name: string, text: string | undefined, fallback: number, min = 0): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}`);
    return n;
  };
  const nemesis = values.nemesis === 'none' || values.nemesis === '' ? [] : values.nemesis.split(',').map((s) => s.trim());
  for (const f of nemesis) if (!faultNames().includes(f)) throw new UsageError(`unknown nemesis ${f}; known: ${faultNames().join(', ')}`);
  if (nemesis.includes('byzantine') && protocol !== 'pbft') throw new UsageError('the byzantine nemesis needs --protocol pbft');
  const readConsistency = values['read-consistency'] as ReadConsistency;
  if (!readConsistencies.includes(readConsistency)) throw new UsageError(`--read-consistency must be one of ${readConsistencies.join(', ')}, not ${values['read-consistency']}`);
  if (readConsistency === 'lease' && protocol !== 'raft') throw new UsageError(`--read-consistency lease needs --protocol raft (${protocol} has no lease reads)`);
  const hosts = values.hosts as HostsMode;
  if (!hostsModes.includes(hosts)) throw new UsageError(`--hosts must be one of ${hostsModes.join(', ')}, not ${values.hosts}`);
  if (hosts === 'netns' && nemesis.includes('delay')) throw new UsageError('--nemesis delay needs --hosts loopback: delay and jitter are the fault proxy\'s (this kernel has no tc netem)');
  const tuning: ChaosOptions['tuning'] = {};
  if (values['election-timeout-ticks'] !== undefined) tuning.electionTimeoutTicks = num('election-timeout-ticks', values['election-timeout-ticks'], 10, 2);
  if (values['tick-ms'] !== undefined) tuning.tickMs = num('tick-ms', values['tick-ms'], 50, 1);
  return {
    ...defaultChaosOptions,
    protocol,
    nemesis,
    timeS: num('time', values.time, defaultChaosOptions.timeS, 1),
    intervalS: num('interval', values.interval, defaultChaosOptions.intervalS, 0.1),
    seed: Math.floor(num('seed', values.seed, defaultChaosOptions.seed)),
    nodes: Math.floor(num('nodes', values.nodes, protocol === 'pbft' ? 4 : defaultChaosOptions.nodes, protocol === 'pbft' ? 4 : 1)),
    clients: Math.floor(num('clients', values.clients, defaultChaosOptions.clients, 1)),
    keys: Math.floor(num('keys', values.keys, defaultChaosOptions.keys, 1)),
    ratePerSec: num('rate', values.rate, defaultChaosOptions.ratePerSec),
    mix: values.mix === undefined ? defaultMix : parseMix(values.mix),
    recoveryS: num('recovery', values.recovery, defaultChaosOptions.recoveryS),
    opTimeoutMs: num('op-timeout', values['op-timeout'], defaultChaosOptions.opTimeoutMs, 1),
    checkerTimeoutS: num('checker-timeout', values['checker-timeout'], defaultChaosOptions.checkerTimeoutS, 0.1),
    allowMajorityDown: values['allow-majority-down'],
    unsafeLocalReads: values['unsafe-local-reads'],
    unsafeNoFsync: values['unsafe-no-fsync'],
    readConsistency,
    clientFailover: values['client-failover'],
    hosts,
    out: values.out,
    ...(Object.keys(tuning).length > 0 ? { tuning } : {}),
  };
}

class UsageError extends Error {}

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parse(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 64;
  }
  const noClocks = options.nemesis.includes('clock') ? faketimeMissing() : null;
  if (noClocks !== null) {
    console.error(`--nemesis clock runs the replicas under libfaketime: ${noClocks}`);
    return 3;
  }
  const noNetns = options.hosts === 'netns' ? netnsMissing() : null;
  if (noNetns !== null) {
    console.error(noNetns);
    return 3;
  }
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      // A second Ctrl-C: stop waiting for a clean shutdown.
      killAllNow();
      process.exit(130);
    }
    console.error(`\n${signal}: stopping the run and every replica (again to force)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  const result = await runChaos({ ...options, signal: controller.signal, log: (line) => console.log(line) });
  if (result.verdict === 'aborted') return 130;
  console.log(result.summary);
  const label = { valid: 'VALID', invalid: 'INVALID', unknown: 'UNKNOWN' }[result.verdict];
  console.log(`\nverdict: ${label} in ${((performance.now() - started) / 1000).toFixed(1)} s; report: ${result.reportPath}`);
  return result.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Fetch keep-alive sockets and the like must not keep a finished run alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    console.error(err instanceof LazyFsUnavailable || err instanceof NetnsUnavailable ? err.message : err); // what to install, no stack
    killAllNow();
    process.exit(3);
  },
);
