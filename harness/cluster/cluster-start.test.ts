/**
 * Starting a cluster on ports chosen in advance (free-port.ts): the ports come from below the
 * kernel's ephemeral range, and a replica that cannot bind its port makes the start fail with a
 * clear error that quotes it.
 */
import { createServer } from 'node:net';
import t from 'tap';
import { Cluster } from './cluster.js';
import { explicitPortRange, freePorts } from './free-port.js';

t.test('ports are drawn below the ephemeral range, distinct and free', async (t) => {
  t.same(explicitPortRange(32_768), { low: 10_000, high: 32_768 }, "Linux's default range leaves 10000-32767");
  t.equal(explicitPortRange(12_000), null, 'too narrow a gap: the kernel picks instead');
  const range = explicitPortRange();
  const ports = await freePorts(40);
  t.equal(new Set(ports).size, 40, 'distinct');
  if (range !== null) t.ok(ports.every((p) => p >= range.low && p < range.high), `all in [${range.low}, ${range.high})`);
  const again = await freePorts(40);
  t.notOk(again.some((p) => ports.includes(p)), 'never handed out twice by one process');
});

t.test('a replica whose port is taken fails the start with its own words', async (t) => {
  const [base] = await freePorts(1);
  const squatter = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(base! + 1, '127.0.0.1', resolve)); // n1's HTTP port
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  let dataRoot = '';
  const started = Cluster.start({ protocol: 'raft', nodes: 1, basePort: base!, logLevel: 'warn', onLog: () => undefined }).then((c) => {
    dataRoot = c.dataRoot;
    return c.stopAll();
  });
  await t.rejects(started, /replica n1 exited during start; its last lines:[\s\S]*EADDRINUSE/, 'the error quotes the replica');
  t.equal(dataRoot, '', 'no cluster came up');
});
