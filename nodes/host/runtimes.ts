/** The protocol runtimes nodes/main.ts chooses from, by the cluster file's `protocol` (docs/design.md §3.1). */
import type { Protocol } from '../config.js';
import { paxosRuntime } from '../multipaxos/start-paxos.js';
import { pbftRuntime } from '../pbft/start-pbft.js';
import { raftRuntime } from '../raft/start-raft.js';
import type { ProtocolRuntime } from './protocol-runtime.js';

export const runtimes: Record<Protocol, ProtocolRuntime> = {
  raft: raftRuntime,
  multipaxos: paxosRuntime,
  pbft: pbftRuntime,
};
