import type { KvCommand, KvResult } from '../../protocols/kv/commands.js';
import type { MembershipService } from './members.js';

/**
 * What the HTTP API needs from a replica, whatever protocol runs behind it. Raft, Multi-Paxos
 * and PBFT replicas each implement it; the HTTP layer (app.ts) is shared. Metrics are not here:
 * each runtime registers its own in the process's registry (nodes/metrics.ts), which GET /metrics
 * renders.
 */
export interface KvService {
  readonly id: string;
  readonly protocol: string;
  /** The leader's id as this replica knows it (itself when leading), or null. */
  leader(): string | null;
  /** HTTP base URL of a replica, for forwarding (`http://host:port`). */
  httpUrlOf(id: string): string | null;
  /** Replicate and apply a command. Throws NotLeaderError or ServiceError. */
  execute(command: KvCommand): Promise<KvResult>;
  /** A linearizable read. Throws NotLeaderError or ServiceError. */
  readLinearizable(key: string): Promise<string | null>;
  /**
   * A lease read (`?consistency=lease`, Raft dissertation §6.4.1): no quorum round while the
   * leader's lease holds; weaker than a linearizable read (it trusts bounded clock drift).
   * Absent when the protocol has no leases.
   */
  readLease?(key: string): Promise<string | null>;
  /**
   * Hand leadership to `target` (any up-to-date replica when null) and resolve once it leads
   * (Raft dissertation §3.10). Throws NotLeaderError on a non-leader. Absent when unsupported.
   */
  transferLeadership?(target: string | null): Promise<{ leader: string }>;
  /** Membership changes (Raft dissertation ch. 4). Absent when unsupported. */
  membership?: MembershipService;
  /** Local state, possibly stale (`?consistency=stale`). */
  readStale(key: string): string | null;
  status(): Record<string, unknown>;
  /** True once the replica has recovered its state and can serve. */
  healthy(): boolean;
}
