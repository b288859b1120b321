/**
 * Partitions made by the kernel (kernel-partitions.ts), checked with real TCP connections between
 * namespaces: an agent in each namespace listens, and probes the others from there
 * (fixtures/net-agent.mjs). A symmetric DROP makes connections time out both ways, REJECT refuses
 * them at once, a one-way cut silences one direction only, the host side still reaches every
 * replica, and healing leaves the run's chains empty.
 */
import t from 'tap';
import { isolate, oneWay } from '../proxy/partition-shapes.js';
import { AGENT_PORT, NetAgents, type ProbeResult } from './fixtures/net-agents.js';
import { KernelPartitions } from './kernel-partitions.js';
import { NetnsHosts } from './netns-hosts.js';
import { needNetns } from './test-support.js';
import { connect } from 'node:net';

const ids = ['n1', 'n2', 'n3'];
/** Long enough for an answer on a loaded 2-core machine; a dropped SYN gets none in that time. */
const PROBE_MS = 1500;

t.test('iptables partitions between namespaces', async (t) => {
  if (!needNetns(t)) return;
  const hosts = await NetnsHosts.create(ids);
  t.teardown(() => hosts.destroy());
  const agents = await NetAgents.start(hosts, ids);
  t.teardown(() => agents.close());
  const kernel = new KernelPartitions({ hosts, targets: () => ids.map((id) => ({ id, ports: [AGENT_PORT] })) });

  /** Every directed probe at once: "from→to": result. */
  const probeAll = async (): Promise<Record<string, ProbeResult>> => {
    const pairs = ids.flatMap((a) => ids.filter((b) => b !== a).map((b) => [a, b] as const));
    const results = await Promise.all(pairs.map(([a, b]) => agents.probe(a, b, PROBE_MS)));
    return Object.fromEntries(pairs.map(([a, b], i) => [`${a}→${b}`, results[i]!]));
  };
  const allOk = Object.fromEntries(ids.flatMap((a) => ids.filter((b) => b !== a).map((b) => [`${a}→${b}`, 'ok'])));

  t.same(await probeAll(), allOk, 'before: every namespace reaches every other');

  await kernel.isolate('n1', 'blackhole');
  t.same(
    await probeAll(),
    { ...allOk, 'n1→n2': 'timeout', 'n1→n3': 'timeout', 'n2→n1': 'timeout', 'n3→n1': 'timeout' },
    'symmetric DROP: n1 and the others time out both ways; n2 and n3 still talk',
  );
  t.equal(await fromHost(hosts.address('n1')), 'ok', 'the host side still reaches the isolated replica');

  await kernel.isolate('n1', 'refuse');
  const started = performance.now();
  const refused = await probeAll();
  t.same(refused, { ...allOk, 'n1→n2': 'refused', 'n1→n3': 'refused', 'n2→n1': 'refused', 'n3→n1': 'refused' }, 'REJECT: refused both ways');
  t.ok(performance.now() - started < PROBE_MS, 'a refusal comes at once, not after a timeout');

  await kernel.partition(oneWay(isolate(ids, 'n1'), ['n1']), 'blackhole');
  t.same(await probeAll(), { ...allOk, 'n2→n1': 'timeout', 'n3→n1': 'timeout' }, 'one-way: n1 hears no one, but n2 and n3 hear n1');
  t.equal(kernel.link('n1', 'n2').mode, 'pass');
  t.equal(kernel.link('n2', 'n1').mode, 'blackhole');

  await kernel.healPartitions();
  t.same(await probeAll(), allOk, 'healed: every link passes again');
  for (const id of ids) t.same((await hosts.iptables(id, ['-S', hosts.names.chain])).trim().split('\n'), [`-N ${hosts.names.chain}`], `${id}: the run's chain is empty`);
  t.match(kernel.events.map((e) => e.change).join('\n'), /kernel DROP isolate[\s\S]*kernel REJECT isolate[\s\S]*one-way[\s\S]*heal/);
});

/** A probe from the host side of the bridge (where clients talk from). */
function fromHost(host: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port: AGENT_PORT });
    const timer = setTimeout(() => (socket.destroy(), resolve('timeout')), PROBE_MS);
    socket.on('connect', () => socket.write('ping'));
    socket.on('data', (d) => (clearTimeout(timer), socket.destroy(), resolve(d.toString() === 'pong' ? 'ok' : 'unexpected')));
    socket.on('error', () => (clearTimeout(timer), resolve('refused')));
  });
}
