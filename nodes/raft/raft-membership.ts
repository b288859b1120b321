/**
 * Membership changes of a running Raft replica (dissertation ch. 4), behind the admin API
 * (nodes/http/members.ts). The core decides (RaftNode.proposeMembership); this file waits for
 * commits, retries while the cluster is busy, and promotes learners once they have caught up.
 */
import type { Membership, MembershipChange } from '../../protocols/raft/membership.js';
import type { MembershipResult } from '../../protocols/raft/types.js';
import type { NodeSpec } from '../config.js';
import { NotLeaderError, ServiceError } from '../http/errors.js';
import type { MembersView, MembershipService, MemberView } from '../http/members.js';

export interface MembershipHost {
  /** The configuration in force, its entry's index, and whether that is committed. */
  current(): { membership: Membership; index: number; committed: boolean };
  leader(): string | null;
  /**
   * Runs core.proposeMembership in the replica loop. `applied` (when the result is ok) resolves
   * once the configuration entry is committed and applied, and rejects if another entry took
   * its place (leadership lost) or the request timed out.
   */
  propose(change: MembershipChange): Promise<{ result: MembershipResult; applied: Promise<void> }>;
  /** Where each replica of the cluster file is. */
  clusterNodes: readonly NodeSpec[];
  /** How long a change may take before TIMEOUT, and how often a busy change is retried. */
  deadlineMs: number;
  retryMs: number;
}

export class RaftMembership implements MembershipService {
  constructor(private readonly host: MembershipHost) {}

  members(): MembersView {
    const { membership, index, committed } = this.host.current();
    return {
      leader: this.host.leader(),
      voters: membership.voters.map((id) => this.view(membership, id)),
      learners: membership.learners.map((id) => this.view(membership, id)),
      index,
      committed,
    };
  }

  async addMember(spec: NodeSpec, learner: boolean): Promise<MembersView> {
    const deadline = Date.now() + this.host.deadlineMs;
    const { membership } = this.host.current();
    if (!membership.voters.includes(spec.id) && !membership.learners.includes(spec.id)) {
      await this.change({ type: 'add-learner', id: spec.id, address: JSON.stringify(spec) }, deadline);
    }
    if (!learner && !this.host.current().membership.voters.includes(spec.id)) {
      await this.change({ type: 'promote', id: spec.id }, deadline);
    }
    return this.members();
  }

  async removeMember(id: string): Promise<MembersView> {
    const { membership } = this.host.current();
    if (membership.voters.includes(id) || membership.learners.includes(id)) {
      await this.change({ type: 'remove', id }, Date.now() + this.host.deadlineMs);
    }
    return this.members();
  }

  /** Proposes `change` until the core takes it (busy: retry), then waits for its commit. */
  private async change(change: MembershipChange, deadline: number): Promise<void> {
    for (;;) {
      const { result, applied } = await this.host.propose(change);
      if (result.ok) return applied;
      if (result.reason === 'not-leader') throw new NotLeaderError(result.leader);
      if (result.reason === 'invalid') throw new ServiceError('BAD_REQUEST', result.message);
      if (Date.now() >= deadline) {
        const hint = change.type === 'promote' ? `; ${change.id} stays a learner: POST again to promote it` : '';
        throw new ServiceError('TIMEOUT', `${result.message}${hint}`);
      }
      await new Promise((r) => setTimeout(r, this.host.retryMs));
    }
  }

  private view(membership: Membership, id: string): MemberView {
    const spec = specOf(membership, id, this.host.clusterNodes);
    return spec === null ? { id } : { id, host: spec.host, httpPort: spec.httpPort, peerPort: spec.peerPort };
  }
}

/** Where member `id` is: its configuration entry's address, else the cluster file. */
export function specOf(membership: Membership, id: string, clusterNodes: readonly NodeSpec[]): NodeSpec | null {
  const address = membership.addresses[id];
  if (address !== undefined) {
    const parsed = parseSpec(address);
    if (parsed !== null && parsed.id === id) return parsed;
  }
  return clusterNodes.find((n) => n.id === id) ?? null;
}

function parseSpec(text: string): NodeSpec | null {
  try {
    const v = JSON.parse(text) as Partial<NodeSpec>;
    if (typeof v.id !== 'string' || typeof v.host !== 'string') return null;
    if (!Number.isInteger(v.httpPort) || !Number.isInteger(v.peerPort)) return null;
    return { id: v.id, host: v.host, httpPort: v.httpPort as number, peerPort: v.peerPort as number };
  } catch {
    return null;
  }
}
