/**
 * The view-change rules of TOCS §4.5 (MAC variant; ViewChange and NewView are signed here, so
 * no VIEW-CHANGE-ACKs are needed: see README "Deviations").
 *
 * - validViewChange: a ViewChange is well-formed and its checkpoint proof holds (TOCS §4.5.1).
 * - decideNewView: the new primary's decision procedure (TOCS §4.5.2): the checkpoint, then for
 *   every n above it either a request (conditions A1, A2, A3) or the null request (B).
 * - Backups verify a NewView by running the same procedure on the ViewChanges it carries
 *   (TOCS §4.5.3) and comparing.
 */
import type { Authenticator } from './auth.js';
import type { Checkpoint, NewView, PreparedEntry, ViewChange } from './types.js';

export interface ViewChangeRules {
  n: number;
  f: number;
  checkpointInterval: number;
  watermarkWindow: number;
  genesisDigest: string;
  auth: Authenticator;
}

/** 2f+1 distinct, correctly signed Checkpoints for (h, digest); h = 0 is the genesis state. */
export function validCheckpointProof(h: number, digest: string, proof: readonly Checkpoint[], rules: ViewChangeRules): boolean {
  if (h === 0) return digest === rules.genesisDigest;
  if (h % rules.checkpointInterval !== 0) return false;
  const signers = new Set<number>();
  for (const c of proof) {
    if (c.type !== 'Checkpoint' || c.sequence !== h || c.digest !== digest) return false;
    if (c.replica < 0 || c.replica >= rules.n || signers.has(c.replica)) return false;
    if (!rules.auth.verifySigned(c)) return false;
    signers.add(c.replica);
  }
  return signers.size >= 2 * rules.f + 1;
}

function entriesValid(entries: readonly PreparedEntry[], vc: ViewChange, rules: ViewChangeRules, unique: boolean): boolean {
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.sequence <= vc.h || e.sequence > vc.h + rules.watermarkWindow) return false;
    if (e.view < 0 || e.view >= vc.view) return false;
    const key = unique ? `${e.sequence}` : `${e.sequence}/${e.digest}`;
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/** TOCS §4.5.1: the receiver checks the sender's claims are well-formed and its checkpoint proven. */
export function validViewChange(vc: ViewChange, rules: ViewChangeRules): boolean {
  if (vc.replica < 0 || vc.replica >= rules.n || vc.view < 1) return false;
  if (!entriesValid(vc.prepared, vc, rules, true) || !entriesValid(vc.prePrepared, vc, rules, false)) return false;
  return validCheckpointProof(vc.h, vc.checkpointDigest, vc.checkpointProof, rules);
}

export interface NewViewDecision {
  h: number;
  hDigest: string;
  hProof: Checkpoint[];
  chosen: Array<{ sequence: number; digest: string }>;
}

function preparedAt(vc: ViewChange, n: number): PreparedEntry | undefined {
  return vc.prepared.find((e) => e.sequence === n);
}

/** A1: 2f+1 messages with h < n whose P has no entry for n, or one with v' < v, or (v, d). */
function conditionA1(S: readonly ViewChange[], n: number, d: string, v: number, f: number): boolean {
  let count = 0;
  for (const m of S) {
    if (m.h >= n) continue;
    const e = preparedAt(m, n);
    if (e === undefined || e.view < v || (e.view === v && e.digest === d)) count++;
  }
  return count >= 2 * f + 1;
}

/** A2: f+1 messages whose Q has (n, d, v') with v' >= v (one of them is correct). */
function conditionA2(S: readonly ViewChange[], n: number, d: string, v: number, f: number): boolean {
  let count = 0;
  for (const m of S) {
    if (m.prePrepared.some((e) => e.sequence === n && e.digest === d && e.view >= v)) count++;
  }
  return count >= f + 1;
}

/** B: 2f+1 messages with h < n whose P has no entry for n: choose the null request. */
function conditionB(S: readonly ViewChange[], n: number, f: number): boolean {
  let count = 0;
  for (const m of S) if (m.h < n && preparedAt(m, n) === undefined) count++;
  return count >= 2 * f + 1;
}

/**
 * TOCS §4.5.2 decision procedure. S holds ViewChanges for one view from distinct replicas, all
 * valid. Returns null when S does not (yet) allow a decision for every n: the primary then
 * waits for more ViewChanges. `hasBatch` is A3 ("the primary has the request").
 */
export function decideNewView(
  S: readonly ViewChange[],
  f: number,
  nullDigest: string,
  hasBatch: (digest: string, sequence: number) => boolean,
): NewViewDecision | null {
  if (S.length < 2 * f + 1) return null;
  // The checkpoint: the highest one proven in S (each proof is 2f+1 signed Checkpoints).
  let best = S[0] as ViewChange;
  for (const m of S) if (m.h > best.h) best = m;
  const h = best.h;
  let maxN = h;
  for (const m of S) for (const e of m.prepared) maxN = Math.max(maxN, e.sequence);
  const chosen: Array<{ sequence: number; digest: string }> = [];
  for (let n = h + 1; n <= maxN; n++) {
    const digest = chooseFor(S, n, f, nullDigest, hasBatch);
    if (digest === null) return null;
    chosen.push({ sequence: n, digest });
  }
  return { h, hDigest: best.checkpointDigest, hProof: best.checkpointProof, chosen };
}

function chooseFor(
  S: readonly ViewChange[],
  n: number,
  f: number,
  nullDigest: string,
  hasBatch: (digest: string, sequence: number) => boolean,
): string | null {
  const candidates: PreparedEntry[] = [];
  for (const m of S) {
    const e = preparedAt(m, n);
    if (e !== undefined && !candidates.some((c) => c.view === e.view && c.digest === e.digest)) candidates.push(e);
  }
  // Deterministic order, so that backups recomputing from the same S get the same answer.
  candidates.sort((a, b) => b.view - a.view || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  for (const c of candidates) {
    // A3: the primary has the request (the null request needs no batch).
    const a3 = c.digest === nullDigest || hasBatch(c.digest, n);
    if (conditionA1(S, n, c.digest, c.view, f) && conditionA2(S, n, c.digest, c.view, f) && a3) {
      return c.digest;
    }
  }
  return conditionB(S, n, f) ? nullDigest : null;
}

/**
 * TOCS §4.5.3: a backup accepts a NewView only if its ViewChanges are 2f+1 valid ones for this
 * view from distinct replicas and recomputing the decision from them gives the same checkpoint
 * and the same choices. `hasBatch` is A3 as the primary saw it: the backup passes "the primary
 * chose d at n" (A3 is the primary's liveness condition, not a safety one; A1 and A2 are
 * checked here), and fetches the chosen batches it lacks before entering the view.
 */
export function verifyNewView(
  nv: NewView,
  rules: ViewChangeRules,
  nullDigest: string,
  hasBatch: (digest: string, sequence: number) => boolean,
): NewViewDecision | null {
  const senders = new Set<number>();
  for (const vc of nv.viewChanges) {
    if (vc.view !== nv.view || senders.has(vc.replica)) return null;
    if (!rules.auth.verifySigned(vc) || !validViewChange(vc, rules)) return null;
    senders.add(vc.replica);
  }
  const decision = decideNewView(nv.viewChanges, rules.f, nullDigest, hasBatch);
  if (decision === null || decision.h !== nv.h || decision.chosen.length !== nv.chosen.length) return null;
  for (let k = 0; k < decision.chosen.length; k++) {
    const mine = decision.chosen[k];
    const theirs = nv.chosen[k];
    if (mine === undefined || theirs === undefined) return null;
    if (mine.sequence !== theirs.sequence || mine.digest !== theirs.digest) return null;
  }
  return decision;
}
