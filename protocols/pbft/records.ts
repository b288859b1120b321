/**
 * What the core persists (contract: `ready.persist`, keys are the core's business), so that a
 * restarted replica never contradicts what it sent before (TOCS §4.6 "the replica's state must
 * survive": view, accepted pre-prepares, its own prepares and commits, the P and Q information,
 * the stable checkpoint and the batches executed after it, its view-change state):
 *
 *   view          { view, viewChanging, consecutive }
 *   cp            { sequence, digest, proof }          the stable checkpoint (its state: d/ and e/)
 *   d/<key>       string                               a key's value at the stable checkpoint
 *   e/<client>    SessionValue                         a client session at the stable checkpoint
 *   s/<n>         SlotRecord                           one sequence number above the checkpoint
 *   b/<n>/<d>     Batch                                a batch known for n (written once)
 *   vc            ViewChange                           the last ViewChange this replica sent
 *   nv            NewView                              the last NewView it accepted (or sent)
 */
import type { Batch, Checkpoint } from './types.js';
import { Slot } from './slot.js';

export interface ViewRecord {
  view: number;
  viewChanging: boolean;
  consecutive: number;
}

export interface CheckpointRecord {
  sequence: number;
  digest: string;
  proof: Checkpoint[];
}

export interface SlotRecord {
  view: number;
  digest: string | null;
  sentPrepare: boolean;
  sentCommit: boolean;
  pView: number;
  pDigest: string;
  q: Array<[string, number]>;
  executed: string | null;
}

export const slotKey = (n: number): string => `s/${n}`;
export const batchKey = (n: number, digest: string): string => `b/${n}/${digest}`;

export function slotRecord(s: Slot): SlotRecord {
  return {
    view: s.view,
    digest: s.digest,
    sentPrepare: s.sentPrepare,
    sentCommit: s.sentCommit,
    pView: s.pView,
    pDigest: s.pDigest,
    q: [...s.q],
    executed: s.executed,
  };
}

/** Rebuilds a slot from its record and the batches stored for it. */
export function slotFromRecord(n: number, r: SlotRecord, batches: Map<string, Batch>, self: number): Slot {
  const s = new Slot(n);
  s.view = r.view;
  s.pView = r.pView;
  s.pDigest = r.pDigest;
  for (const [d, v] of r.q) s.q.set(d, v);
  for (const [d, b] of batches) {
    s.batches.set(d, b);
    s.persistedBatches.add(d);
  }
  s.executed = r.executed;
  if (r.digest !== null) {
    s.digest = r.digest;
    s.batch = batches.get(r.digest) ?? null;
  }
  // Our own votes are facts we must keep: never send a different Prepare/Commit in this view.
  if (r.sentPrepare && r.digest !== null) {
    s.sentPrepare = true;
    s.prepares.set(self, r.digest);
  }
  if (r.sentCommit && r.digest !== null) {
    s.sentCommit = true;
    s.commits.set(self, r.digest);
  }
  return s;
}

/** Parses `s/<n>` and `b/<n>/<d>` keys. */
export function parseKey(key: string): { kind: 's'; n: number } | { kind: 'b'; n: number; digest: string } | null {
  const parts = key.split('/');
  const n = Number(parts[1]);
  if (!Number.isSafeInteger(n)) return null;
  if (parts[0] === 's' && parts.length === 2) return { kind: 's', n };
  if (parts[0] === 'b' && parts.length === 3) return { kind: 'b', n, digest: parts[2] as string };
  return null;
}
