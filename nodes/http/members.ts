/**
 * The membership admin API (Raft dissertation ch. 4): `GET /admin/members`,
 * `POST /admin/members`, `DELETE /admin/members/:id`. Protocols that can change membership
 * implement `MembershipService`; the routes answer BAD_REQUEST for the others.
 */
import type { NodeSpec } from '../config.js';

export interface MemberView {
  id: string;
  /** Where to reach it, when this replica knows (cluster file or the configuration entry). */
  host?: string;
  httpPort?: number;
  peerPort?: number;
}

export interface MembersView {
  /** The leader as this replica knows it. */
  leader: string | null;
  voters: MemberView[];
  learners: MemberView[];
  /** Log index of the configuration entry (0: the bootstrap configuration). */
  index: number;
  /** Whether that entry is committed (dissertation §4.1: it is in force either way). */
  committed: boolean;
}

export interface MembershipService {
  members(): MembersView;
  /**
   * Dissertation §4.2.1: add `spec` as a learner, wait until it has caught up, then promote it
   * to voter (unless `learner`). Resolves once the last change is committed. Idempotent.
   */
  addMember(spec: NodeSpec, learner: boolean): Promise<MembersView>;
  /** Dissertation §4.2.2: remove a voter or learner (the leader too). Idempotent. */
  removeMember(id: string): Promise<MembersView>;
}

export const addMemberBody = {
  type: 'object',
  required: ['id', 'httpPort', 'peerPort'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' },
    host: { type: 'string', minLength: 1, maxLength: 255 },
    httpPort: { type: 'integer', minimum: 1, maximum: 65535 },
    peerPort: { type: 'integer', minimum: 1, maximum: 65535 },
    learner: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

export interface AddMemberBody {
  id: string;
  host?: string;
  httpPort: number;
  peerPort: number;
  learner?: boolean;
}
