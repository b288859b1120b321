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
  // pbft: ourProtocol('pbft'),
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
