/**
 * Hosts with their own network (netns-hosts.ts): the names, the subnet choice and the rules as
 * pure functions everywhere; as root, a bridge and namespaces that are made and removed, also
 * after their owner was SIGKILLed (the next start removes what the registry names).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { isolate, oneWay } from '../proxy/partition-shapes.js';
import { netnsMissing, sh } from './host-tools.js';
import { IFNAME_MAX, runNames } from './names.js';
import { NetnsHosts } from './netns-hosts.js';
import { chainRules, restoreInput } from './partition-rules.js';
import { REGISTRY_DIR } from './registry.js';
import { usedPrefixes } from './subnet.js';
import { needNetns } from './test-support.js';
import { track } from '../cluster/process-registry.js';

const here = dirname(fileURLToPath(import.meta.url));

t.test('names carry the run id and fit the 15-character interface limit', async (t) => {
  const n = runNames('ab3x9');
  for (const name of [n.bridge, n.hostVeth('n1'), n.replicaVeth('n99')]) {
    t.ok(name.includes('ab3x9'), `${name} carries the run id`);
    t.ok(name.length <= IFNAME_MAX, `${name} fits`);
  }
  t.equal(n.namespace('n2'), 'cl-ab3x9-n2');
  t.equal(n.chain, 'CL-ab3x9');
  t.throws(() => runNames('TOO-LONG-ID'));
  t.throws(() => n.hostVeth('n100'), /n1\.\.n99/);
});

t.test('the subnet avoids every 10.X.Y network in use', async (t) => {
  const used = usedPrefixes('2: eth0 inet 10.1.2.3/24 brd ...\n10.7.0.0/16 dev x\n10.9.9.0/24 dev br0 proto kernel');
  t.same([...used.prefixes].sort(), ['10.1.2', '10.9.9']);
  t.same(used.wide, ['10.7.0.0/16']);
});

t.test('without root or the tools, a clear reason', async (t) => {
  t.match(netnsMissing({ platform: 'linux', uid: 1000 }), /needs root/);
  t.match(netnsMissing({ platform: 'darwin', uid: 0 }), /needs Linux/);
});

t.test('cut links become rules in the receiver\'s chain: DROP, REJECT, one-way', async (t) => {
  const addr = (id: string) => ({ address: `10.5.5.${10 + Number(id.slice(1))}`, ports: [7101, 7001] });
  const shape = isolate(['n1', 'n2', 'n3'], 'n1');
  const cuts = shape.cut.map(([from, to]) => ({ from, to, mode: 'blackhole' as const }));
  t.same(chainRules('CL-x', 'n1', cuts, addr), [
    '-A CL-x -s 10.5.5.12/32 -p tcp -m multiport --dports 7001,7101 -j DROP',
    '-A CL-x -s 10.5.5.13/32 -p tcp -m multiport --dports 7001,7101 -j DROP',
  ]);
  t.same(chainRules('CL-x', 'n2', [{ from: 'n1', to: 'n2', mode: 'refuse' }], addr), ['-A CL-x -s 10.5.5.11/32 -p tcp -m multiport --dports 7001,7101 -j REJECT --reject-with tcp-reset']);
  t.same(oneWay(shape, ['n1']).cut, [['n2', 'n1'], ['n3', 'n1']], 'one-way: only the links into the deaf node stay cut');
  t.equal(restoreInput('CL-x', []), '*filter\n:CL-x - [0:0]\nCOMMIT\n', 'healing empties the chain');
});

t.test('a bridge and a namespace per replica, made and removed', async (t) => {
  if (!needNetns(t)) return;
  const hosts = await NetnsHosts.create(['n1', 'n2']);
  t.teardown(() => hosts.destroy());
  const namespaces = await sh('ip', ['netns', 'list']);
  t.match(namespaces, hosts.namespace('n1'));
  t.match(namespaces, hosts.namespace('n2'));
  t.match(await sh('ip', ['-o', 'link', 'show', hosts.names.bridge]), 'UP');
  t.match(await sh('ip', ['-n', hosts.namespace('n2'), '-o', 'addr', 'show']), `${hosts.address('n2')}/24`);
  t.match(await hosts.iptables('n1', ['-S', 'INPUT']), `-A INPUT -j ${hosts.names.chain}`);
  t.ok(existsSync(join(REGISTRY_DIR, `${hosts.runId}.json`)), 'registered');
  await hosts.destroy();
  t.notMatch(await sh('ip', ['netns', 'list']), hosts.runId, 'no namespace left');
  t.notMatch(await sh('ip', ['-o', 'link']), hosts.runId, 'no bridge or veth left');
  t.notOk(existsSync(join(REGISTRY_DIR, `${hosts.runId}.json`)), 'unregistered');
});

t.test('after a SIGKILL of the owner, the next start removes what it left', async (t) => {
  if (!needNetns(t)) return;
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures/hold-hosts.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`hold-hosts exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const made = JSON.parse(line) as { runId: string; bridge: string; namespaces: string[] };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  t.teardown(async () => {
    // Whatever happens above, nothing of the killed run stays.
    for (const ns of made.namespaces) await sh('ip', ['netns', 'delete', ns]).catch(() => undefined);
    await sh('ip', ['link', 'delete', made.bridge]).catch(() => undefined);
  });
  t.match(await sh('ip', ['netns', 'list']), made.namespaces[0]!, 'the killed run left its namespaces');
  const next = await NetnsHosts.create(['n1']);
  await next.destroy();
  t.notMatch(await sh('ip', ['netns', 'list']), made.runId, 'the next start removed them');
  t.notMatch(await sh('ip', ['-o', 'link']), made.runId, 'and the bridge and veths');
  t.notOk(existsSync(join(REGISTRY_DIR, `${made.runId}.json`)), 'and the registry entry');
});
