/**
 * Who leads, in which epoch, from one replica's status answer: our `GET /status` (README, "The
 * HTTP API": `leader` plus `term` for Raft, `ballot.round` for Multi-Paxos, `view` for PBFT) or
 * etcd's `POST /v3/maintenance/status` (etcd API reference, StatusResponse: `leader` is the
 * leader's member id, `raftTerm` the current term, `header.member_id` the answering member).
 */
import type { Dialect } from './requests.js';

export interface StatusReading {
  /** How the replica names itself. */
  self: string | null;
  /** The leader it knows of, in the same naming; null while it knows none. */
  leader: string | null;
  epoch: number | null;
  /** Raft snapshot index, Multi-Paxos snapshot slot, PBFT last stable checkpoint. */
  snapshot: number | null;
  keys: number | null;
}

export const statusRequest = (dialect: Dialect): { method: 'GET' | 'POST'; path: string; body: string | null } =>
  dialect === 'etcd' ? { method: 'POST', path: '/v3/maintenance/status', body: '{}' } : { method: 'GET', path: '/status', body: null };

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function readStatus(dialect: Dialect, body: unknown): StatusReading {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (dialect === 'etcd') {
    const header = (b['header'] ?? {}) as Record<string, unknown>;
    // uint64 fields arrive as JSON strings through the gateway; 0 means "no leader".
    const leader = b['leader'] === undefined ? null : String(b['leader']);
    return {
      self: header['member_id'] === undefined ? null : String(header['member_id']),
      leader: leader === null || leader === '0' ? null : leader,
      epoch: num(b['raftTerm'] ?? header['raft_term']),
      snapshot: null,
      keys: null,
    };
  }
  const ballot = (b['ballot'] ?? null) as Record<string, unknown> | null;
  const epoch = num(b['term']) ?? num(ballot?.['round']) ?? num(b['view']);
  const snapshot = num(b['snapshotIndex']) ?? num(b['snapshotSlot']) ?? num(b['lastStableCheckpoint']);
  return { self: str(b['id']), leader: str(b['leader']), epoch, snapshot, keys: num(b['keys']) };
}
