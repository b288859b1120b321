/**
 * Cluster membership changes, one server at a time (dissertation ch. 4, §4.1-§4.2).
 *
 * A configuration is a log entry (kind 'config'). A server uses the LATEST configuration in its
 * log, committed or not (§4.1): it takes effect as soon as it is appended, and a truncated one
 * is undone, the server falling back to the one before. Adding or removing one voter at a time
 * keeps every majority of the old configuration overlapping every majority of the new one, so
 * no two leaders can be elected in one term across the change (§4.1, Figure 4.3).
 *
 * New servers join as non-voting learners (§4.2.1): they receive the log but count in no
 * majority, and are promoted to voters once they have caught up, so that adding them does not
 * stall commits while they copy the log.
 */
import { invariant } from '../common/invariant.js';
import type { LogEntry, Membership, NodeId } from './types.js';

/** The configuration itself is vocabulary (types.ts), so that types.ts and this file do not import each other. */
export type { Membership };

export type MembershipChange =
  /** §4.2.1: a new server joins as a learner; it is promoted later. */
  | { type: 'add-learner'; id: NodeId; address: string }
  /** §4.2.1: the learner caught up; it becomes a voter. */
  | { type: 'promote'; id: NodeId }
  /** §4.2.2: a voter or learner leaves (the leader itself included). */
  | { type: 'remove'; id: NodeId };

/** A configuration and the index of the log entry holding it (0: the bootstrap configuration). */
export interface IndexedMembership {
  index: number;
  membership: Membership;
}

export function isMember(m: Membership, id: NodeId): boolean {
  return m.voters.includes(id) || m.learners.includes(id);
}

/** The configuration after `change`, or why `change` is not allowed against `current`. */
export function applyChange(current: Membership, change: MembershipChange): Membership | string {
  const { id } = change;
  switch (change.type) {
    case 'add-learner':
      if (isMember(current, id)) return `${id} is already a member`;
      return {
        voters: [...current.voters],
        learners: [...current.learners, id],
        addresses: { ...current.addresses, [id]: change.address },
      };
    case 'promote':
      if (!current.learners.includes(id)) return `${id} is not a learner`;
      return {
        voters: [...current.voters, id],
        learners: current.learners.filter((l) => l !== id),
        addresses: { ...current.addresses },
      };
    case 'remove': {
      if (!isMember(current, id)) return `${id} is not a member`;
      if (current.voters.length === 1 && current.voters[0] === id) return 'cannot remove the last voter';
      const addresses = { ...current.addresses };
      delete addresses[id];
      return {
        voters: current.voters.filter((v) => v !== id),
        learners: current.learners.filter((l) => l !== id),
        addresses,
      };
    }
    default: {
      const unknown: never = change;
      return unknown;
    }
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMembership(m: Membership): Uint8Array {
  return encoder.encode(JSON.stringify({ voters: m.voters, learners: m.learners, addresses: m.addresses }));
}

/** Decodes a config entry's data; null if it is not a well-formed configuration (from a peer). */
export function decodeMembership(data: Uint8Array): Membership | null {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  return isMembership(value) ? value : null;
}

export function isMembership(value: unknown): value is Membership {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  if (!isIdList(m['voters']) || !isIdList(m['learners'])) return false;
  const all = [...m['voters'], ...m['learners']];
  if (m['voters'].length === 0 || new Set(all).size !== all.length) return false;
  const addresses = m['addresses'];
  if (typeof addresses !== 'object' || addresses === null || Array.isArray(addresses)) return false;
  return Object.values(addresses).every((a) => typeof a === 'string');
}

function isIdList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 256);
}

/**
 * The configurations in a replica's log: the one its snapshot (or bootstrap) holds, and one per
 * config entry after it. `current` is the latest (§4.1: used whether committed or not).
 */
export class MembershipLog {
  private history: IndexedMembership[];

  constructor(base: IndexedMembership, entries: readonly LogEntry[] = []) {
    this.history = [base];
    for (const entry of entries) if (entry.index > base.index) this.onAppend(entry);
  }

  get current(): IndexedMembership {
    return this.history[this.history.length - 1] as IndexedMembership;
  }

  /** The configuration in force at `index` (the latest entry at or before it). */
  at(index: number): IndexedMembership {
    for (let k = this.history.length - 1; k > 0; k--) {
      const h = this.history[k] as IndexedMembership;
      if (h.index <= index) return h;
    }
    return this.history[0] as IndexedMembership;
  }

  /** A config entry was appended: it takes effect now (§4.1). */
  onAppend(entry: LogEntry): void {
    if (entry.kind !== 'config' || entry.data === null) return;
    const membership = decodeMembership(entry.data);
    invariant(membership !== null, () => `config entry ${entry.index} does not decode`);
    invariant(entry.index > this.current.index, () => `config entry ${entry.index} out of order`);
    this.history.push({ index: entry.index, membership });
  }

  /** Entries from `index` on were truncated: their configurations are undone (§4.1). */
  truncateFrom(index: number): void {
    while (this.history.length > 1 && (this.history[this.history.length - 1] as IndexedMembership).index >= index) {
      this.history.pop();
    }
  }

  /** The log now starts after `index` (a snapshot covers it): older configurations are dropped. */
  compact(index: number): void {
    const base = this.at(index);
    this.history = [base, ...this.history.filter((h) => h.index > index)];
  }
}
