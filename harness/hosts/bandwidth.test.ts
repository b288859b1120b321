/**
 * Bandwidth limits (bandwidth.ts): with a token bucket on replica n1's veth, sending to it from the
 * host side takes as long as the rate says; without it, the same bytes take a fraction of that.
 */
import { connect } from 'node:net';
import t from 'tap';
import { clearBandwidth, limitBandwidth, tbfArgs } from './bandwidth.js';
import { AGENT_PORT, NetAgents } from './fixtures/net-agents.js';
import { sh } from './host-tools.js';
import { NetnsHosts } from './netns-hosts.js';
import { needNetns } from './test-support.js';

const RATE = 400_000; // bytes per second
const BYTES = 600_000;

t.test('tbf parameters', async (t) => {
  t.same(tbfArgs(400_000), ['tbf', 'rate', '3200000bit', 'burst', '20000', 'latency', '100ms']);
  t.throws(() => tbfArgs(10), /at least 1000/);
});

t.test('a tbf qdisc on the veth limits throughput', async (t) => {
  if (!needNetns(t)) return;
  const hosts = await NetnsHosts.create(['n1']);
  t.teardown(() => hosts.destroy());
  const agents = await NetAgents.start(hosts, ['n1']);
  t.teardown(() => agents.close());

  const free = await sendSeconds(hosts.address('n1'), BYTES);
  await limitBandwidth(hosts, 'n1', RATE);
  t.match(await sh('tc', ['qdisc', 'show', 'dev', hosts.names.hostVeth('n1')]), /tbf .*rate 3200Kbit/, 'tbf on the host end');
  t.match(await sh('tc', ['-n', hosts.namespace('n1'), 'qdisc', 'show', 'dev', hosts.names.replicaVeth('n1')]), /tbf/, 'and on the namespace end');
  const limited = await sendSeconds(hosts.address('n1'), BYTES);
  await clearBandwidth(hosts, 'n1');
  const again = await sendSeconds(hosts.address('n1'), BYTES);
  t.comment(`${BYTES} bytes: ${free.toFixed(3)} s unlimited, ${limited.toFixed(3)} s at ${RATE} B/s, ${again.toFixed(3)} s after clearing`);
  // The bucket lets its burst through at once; the rest goes at the rate.
  t.ok(limited >= (0.8 * (BYTES - 20_000)) / RATE, `limited: ${(BYTES / limited / 1000).toFixed(0)} kB/s, at most about ${RATE / 1000} kB/s`);
  t.ok(limited > 3 * free, 'several times slower than unlimited');
  t.ok(limited > 3 * again, 'and fast again once cleared');
});

/** Seconds from connecting to n1's sink until it confirms it got every byte. */
function sendSeconds(host: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host, port: AGENT_PORT });
    socket.setTimeout(20_000, () => socket.destroy(new Error('sink did not answer in 20 s')));
    socket.on('connect', () => socket.end(Buffer.alloc(bytes, 1)));
    socket.on('data', (d) => {
      if (d.toString() !== `got ${bytes}`) return reject(new Error(`sink said ${d}`));
      resolve((performance.now() - started) / 1000);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}
