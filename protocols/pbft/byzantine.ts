/**
 * Byzantine replicas on purpose (for the simulation, the harness and students): a wrapper with
 * the PbftReplica surface that runs a correct core and rewrites its outputs. It holds only its
 * own keys (the crypto it is given), so whatever it forges must fail verification at correct
 * replicas (OSDI §2: faulty nodes cannot subvert the cryptography). With at most f of them the
 * cluster stays safe and live (OSDI §4.5.1); see README "What breaks with f+1".
 *
 * - silent: receives, sends nothing.
 * - equivocate: as primary, sends a different PrePrepare for one n to half of the backups (some
 *   get both), and votes (Prepare, Commit) for whatever digest each replica has: it backs every
 *   side, the strongest help a faulty replica can give a wrong quorum.
 * - bad-digest: lies about digests everywhere: PrePrepare, Prepare and Commit carry a digest
 *   that matches nothing; its ViewChange claims a made-up batch prepared in the latest view for
 *   every n it reports (TOCS §4.5 A2 must stop it); as a new primary its NewView chooses the null
 *   request everywhere (backups must reject it); in state transfer it serves a made-up state
 *   and made-up committed batches (the digest check and the f+1 rule must stop them).
 * - wrong-reply: replies (ordered and read-only, and its own outputs) carry a wrong result.
 * - forge: besides its own messages, sends copies claiming to come from another replica.
 * - stale-view: keeps acting in the view it started in; takes no part in view changes.
 */
import type { Rng } from '../common/rng.js';
import type { KvResult } from '../kv/commands.js';
import { Authenticator } from './auth.js';
import { encodeBatch, encodeValue } from './canonical.js';
import type { PbftCrypto } from './crypto.js';
import type { PbftReplica } from './pbft-replica.js';
import type { Batch, ClientRequest, PbftMessage, PbftReady, PbftReplicaApi, PbftStatus } from './types.js';

export type ByzantineMode = 'silent' | 'equivocate' | 'bad-digest' | 'wrong-reply' | 'forge' | 'stale-view';

export const BYZANTINE_MODES: readonly ByzantineMode[] = ['silent', 'equivocate', 'bad-digest', 'wrong-reply', 'forge', 'stale-view'];

type Out = { to: number; message: PbftMessage };

export class ByzantineReplica implements PbftReplicaApi {
  private readonly auth: Authenticator;
  private readonly frozenView: number;
  /** Messages sent by the wrapper (the forged, rewritten ones), for statistics. */
  tampered = 0;
  /** equivocate: the other digest sent for (v, n), and the votes already echoed. */
  private readonly alternative = new Map<string, string>();
  private readonly echoed = new Set<string>();
  private extra: Out[] = [];

  constructor(
    readonly inner: PbftReplica,
    readonly mode: ByzantineMode,
    private readonly crypto: PbftCrypto,
    private readonly rng: Rng,
  ) {
    this.auth = new Authenticator(crypto, inner.config.authentication);
    this.frozenView = inner.status().view;
  }

  tick(): void {
    this.inner.tick();
  }

  step(from: number, msg: PbftMessage): void {
    // stale-view ignores every view change, so its core stays in the old view.
    if (this.mode === 'stale-view' && (msg.type === 'NewView' || msg.type === 'ViewChange')) return;
    if (this.mode === 'equivocate' && (msg.type === 'Prepare' || msg.type === 'Commit')) this.echo(msg.replica, msg.view, msg.sequence, msg.digest);
    this.inner.step(from, msg);
  }

  /** Vote for whatever replica j voted for (once per (j, v, n, d)). */
  private echo(to: number, view: number, sequence: number, digest: string): void {
    const key = `${to}/${view}/${sequence}/${digest}`;
    if (this.echoed.has(key) || to === this.inner.self || to < 0 || to >= this.inner.n) return;
    if (this.echoed.size > 100_000) this.echoed.clear();
    this.echoed.add(key);
    const self = this.inner.self;
    if (self !== view % this.inner.n) this.extra.push(this.reseal(to, { type: 'Prepare', view, sequence, digest, replica: self, auth: new Uint8Array(0) }));
    this.extra.push(this.reseal(to, { type: 'Commit', view, sequence, digest, replica: self, auth: new Uint8Array(0) }));
  }

  submit(request: ClientRequest): 'accepted' | 'overloaded' {
    return this.inner.submit(request);
  }

  readOnly(request: ClientRequest): void {
    this.inner.readOnly(request);
  }

  hasReady(): boolean {
    return this.inner.hasReady() || this.extra.length > 0;
  }

  ready(): PbftReady {
    const rd = this.inner.ready();
    const messages: Out[] = this.extra;
    this.extra = [];
    for (const out of rd.messages) for (const m of this.rewrite(out)) messages.push(m);
    if (this.mode === 'wrong-reply') {
      return {
        ...rd,
        messages,
        executed: rd.executed.map((e) => ({ ...e, result: wrongResult(e.result) })),
        readReplies: rd.readReplies.map((r) => (r.from === this.inner.self ? { ...r, result: wrongResult(r.result) } : r)),
      };
    }
    return { ...rd, messages };
  }

  advance(ready: PbftReady): void {
    this.inner.advance(ready);
  }

  status(): PbftStatus {
    return this.inner.status();
  }

  private reseal(to: number, m: PbftMessage): Out {
    this.tampered++;
    const sealed = this.auth.seal(m, [to])[0] as Out;
    return sealed;
  }

  private rewrite(out: Out): Out[] {
    const m = out.message;
    switch (this.mode) {
      case 'silent':
        return [];
      case 'equivocate':
        return this.equivocate(out);
      case 'bad-digest':
        if (m.type === 'PrePrepare' || m.type === 'Prepare' || m.type === 'Commit') {
          return [this.reseal(out.to, { ...m, digest: `bad${this.rng.int(1 << 30).toString(16)}` })];
        }
        return [this.lieAboutDigests(out)];
      case 'wrong-reply':
        if (m.type === 'Reply') return [this.reseal(out.to, { ...m, replies: m.replies.map((e) => ({ ...e, result: wrongResult(e.result) })) })];
        if (m.type === 'ReadReply') return [this.reseal(out.to, { ...m, result: wrongResult(m.result) })];
        return [out];
      case 'forge':
        return [out, this.forge(out)];
      case 'stale-view':
        return this.stale(out);
    }
  }

  /**
   * Half the backups (odd ids) get a different batch for the same (v, n), with a valid MAC; some
   * get both versions (OSDI §4.2 says a backup must accept only the first). The primary's own
   * Commits follow the version each backup got.
   */
  private equivocate(out: Out): Out[] {
    const m = out.message;
    if (m.type === 'Commit' && out.to % 2 === 1) {
      const alt = this.alternative.get(`${m.view}/${m.sequence}`);
      return alt === undefined ? [out] : [this.reseal(out.to, { ...m, digest: alt })];
    }
    if (m.type !== 'PrePrepare' || out.to % 2 === 0) return [out];
    const batch: Batch =
      m.batch.length >= 2
        ? [...m.batch].reverse()
        : [...m.batch, { clientId: `byz-${this.inner.self}`, seq: m.sequence, operation: { op: 'put', key: 'byz', value: `${m.sequence}` }, origin: -1 }];
    const digest = this.crypto.digest(encodeBatch(batch));
    this.alternative.set(`${m.view}/${m.sequence}`, digest);
    const forged = this.reseal(out.to, { ...m, batch, digest });
    return out.to % 4 === 1 ? [out, forged] : [forged];
  }

  private lieAboutDigests(out: Out): Out {
    const m = out.message;
    const self = this.inner.self;
    const fake = (n: number): Batch => [{ clientId: `byz-${self}`, seq: n, operation: { op: 'put', key: 'byz', value: `lie${n}` }, origin: -1 }];
    switch (m.type) {
      case 'NewView': {
        const chosen = m.chosen.map((c) => ({ sequence: c.sequence, digest: this.inner.nullDigest }));
        return this.reseal(out.to, { ...m, chosen, batches: [] });
      }
      case 'ViewChange': {
        const batches = m.prepared.map((e) => ({ sequence: e.sequence, digest: this.crypto.digest(encodeBatch(fake(e.sequence))), batch: fake(e.sequence) }));
        const prepared = batches.map((b) => ({ sequence: b.sequence, digest: b.digest, view: m.view - 1 }));
        return this.reseal(out.to, { ...m, prepared, prePrepared: prepared, batches });
      }
      case 'Meta': {
        const nodes = m.nodes.map((node) => ({ ...node, children: node.children.map((_, k) => this.crypto.digest(encodeValue(['byz', node.level, k]))) }));
        return this.reseal(out.to, { ...m, nodes });
      }
      case 'PartitionChunk': {
        const bytes = encodeValue([['byz', 'made-up state']]);
        return this.reseal(out.to, { ...m, offset: 0, total: 1, bytes });
      }
      case 'FetchReply': {
        const entries = m.entries.map((e) => ({ sequence: e.sequence, digest: this.crypto.digest(encodeBatch(fake(e.sequence))), batch: fake(e.sequence) }));
        return this.reseal(out.to, { ...m, entries });
      }
      default:
        return out;
    }
  }

  /** A copy claiming another sender (not the receiver), with content that would do harm. */
  private forge(out: Out): Out {
    const m = out.message;
    let claimed = this.rng.int(this.inner.n);
    if (claimed === this.inner.self || claimed === out.to) claimed = (out.to + 1) % this.inner.n;
    if (claimed === this.inner.self) claimed = (claimed + 1) % this.inner.n;
    let body: PbftMessage = { ...m, replica: claimed };
    if (body.type === 'Prepare' || body.type === 'Commit') body = { ...body, digest: 'forged' };
    if (body.type === 'ViewChange') body = { ...body, view: body.view + 1 };
    if (body.type === 'Reply') body = { ...body, replies: body.replies.map((e) => ({ ...e, result: wrongResult(e.result) })) };
    if (body.type === 'ReadReply') body = { ...body, result: wrongResult(body.result) };
    // Authenticated with this replica's own keys: the receiver checks against `claimed` and fails.
    return this.reseal(out.to, body);
  }

  private stale(out: Out): Out[] {
    const m = out.message;
    if (m.type === 'ViewChange' || m.type === 'NewView') return [];
    if (m.type === 'PrePrepare' || m.type === 'Prepare' || m.type === 'Commit' || m.type === 'Reply') {
      if (m.view === this.frozenView) return [out];
      return [this.reseal(out.to, { ...m, view: this.frozenView })];
    }
    return [out];
  }
}

/** A plausible but wrong result of the same kind. */
export function wrongResult(result: KvResult): KvResult {
  switch (result.kind) {
    case 'get':
      return { kind: 'get', value: result.value === null ? 'forged' : `${result.value}!` };
    case 'put':
      return { kind: 'cas', ok: false, current: 'forged' };
    case 'delete':
      return { kind: 'delete', existed: !result.existed };
    case 'cas':
      return result.ok ? { kind: 'cas', ok: false, current: 'forged' } : { kind: 'cas', ok: true };
    case 'session-expired':
      return { kind: 'put' };
  }
}
