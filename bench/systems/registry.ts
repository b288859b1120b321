/**
 * Every system the benchmark can drive, by the name `--systems` uses. A new protocol is one
 * line here once the cluster launcher knows it, e.g. `multipaxos: ourProtocol('multipaxos')`.
 */
import { etcdBaseline } from './etcd.js';
import { helloBaseline } from './hello.js';
import { ourProtocol, singleBaseline } from './our-cluster.js';
import type { SystemDefinition } from './types.js';

export const systemRegistry: Readonly<Record<string, SystemDefinition>> = {
  raft: ourProtocol('raft'),
  multipaxos: ourProtocol('multipaxos'),
  pbft: ourProtocol('pbft', 'pbft', 'pbft, our implementation: MAC authenticators (3f+1 replicas for the same f)'),
  'pbft-sign': ourProtocol('pbft', 'pbft-sign', 'pbft with an Ed25519 signature on every message instead of MACs', {
    pbftTuning: { authentication: 'sign-all' },
  }),
  single: singleBaseline('raft'),
  hello: helloBaseline,
  etcd: etcdBaseline,
};

export const systemNames = Object.keys(systemRegistry);

export function systemDefinition(name: string): SystemDefinition {
  const def = systemRegistry[name];
  if (def === undefined) throw new Error(`unknown system '${name}' (known: ${systemNames.join(', ')})`);
  return def;
}
