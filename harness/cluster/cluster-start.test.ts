/**
 * Starting a cluster on ports chosen in advance (free-port.ts): the ports come from below the
 * kernel's ephemeral range, and a replica that cannot bind its port makes the start fail with a
 * clear error that quotes it. Replicas start with the memory settings of replica-memory.ts.
 */
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { Cluster } from './cluster.js';
import { explicitPortRange, freePorts } from './free-port.js';
import { REPLICA_V8_FLAGS, replicaV8Flags, withReplicaMallocEnv } from './replica-memory.js';

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

t.test('replicas start with the memory settings (replica-memory.ts), and a run can replace them', async (t) => {
  t.same(replicaV8Flags({}), [...REPLICA_V8_FLAGS], 'the defaults');
  t.same(replicaV8Flags({ CONSENSUS_LAB_REPLICA_V8_FLAGS: ' --max-semi-space-size=4  --heap-growing-percent=20 ' }), ['--max-semi-space-size=4', '--heap-growing-percent=20']);
  t.same(replicaV8Flags({ CONSENSUS_LAB_REPLICA_V8_FLAGS: '' }), [], "empty: V8's own");
  t.equal(withReplicaMallocEnv({ MALLOC_ARENA_MAX: '8' })['MALLOC_ARENA_MAX'], '8', 'a variable the harness has set wins');
  if (process.platform !== 'linux') return;
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 1, logLevel: 'warn' });
  t.teardown(() => cluster.stopAll());
  const pid = cluster.replicas[0]!.process!.pid!;
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  t.ok(REPLICA_V8_FLAGS.every((f) => argv.includes(f)), `node runs with ${REPLICA_V8_FLAGS.join(' ')}`);
  const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
  t.ok(environ.includes('MALLOC_ARENA_MAX=2') || process.env['MALLOC_ARENA_MAX'] !== undefined, 'and with the malloc settings');
});
