/**
 * SessionTable against a plain reference (the dissertation's §6.3 table with a full scan on
 * every trim): the same lookups and the same entries after any mix of in-order, out-of-order and
 * duplicate sequence numbers, expiry and snapshot restores.
 */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import type { KvResult, SessionTag } from './commands.js';
import { SessionTable, type SessionLimits, type SessionLookup } from './sessions.js';

/** The table without the ascending shortcut: every trim scans every remembered seq. */
class ReferenceTable {
  private readonly sessions = new Map<string, { maxSeq: number; results: Map<number, KvResult> }>();
  constructor(private readonly limits: SessionLimits) {}

  lookup(tag: SessionTag): SessionLookup {
    const session = this.sessions.get(tag.clientId);
    if (session === undefined) return { kind: 'new' };
    const result = session.results.get(tag.seq);
    if (result !== undefined) return { kind: 'duplicate', result };
    if (tag.seq <= session.maxSeq - this.limits.windowSize) return { kind: 'expired' };
    return { kind: 'new' };
  }

  record(tag: SessionTag, result: KvResult): void {
    const session = this.sessions.get(tag.clientId) ?? { maxSeq: 0, results: new Map<number, KvResult>() };
    this.sessions.delete(tag.clientId);
    this.sessions.set(tag.clientId, session);
    session.results.set(tag.seq, result);
    session.maxSeq = Math.max(session.maxSeq, tag.seq);
    if (session.results.size > this.limits.windowSize) {
      for (const seq of session.results.keys()) if (seq <= session.maxSeq - this.limits.windowSize) session.results.delete(seq);
    }
    while (this.sessions.size > this.limits.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
  }

  entries(): Array<[string, number, Array<[number, KvResult]>]> {
    return [...this.sessions].map(([id, s]) => [id, s.maxSeq, [...s.results]]);
  }
}

t.test('the trimming shortcut never changes a lookup or the remembered entries', async (t) => {
  const limits: SessionLimits = { maxSessions: 4, windowSize: 8 };
  for (let seed = 1; seed <= 300; seed++) {
    const rng = new SeededRng(seed);
    let table = new SessionTable(limits);
    const reference = new ReferenceTable(limits);
    const next = new Map<string, number>();
    for (let step = 0; step < 400; step++) {
      const clientId = `c${rng.int(6)}`;
      const last = next.get(clientId) ?? 0;
      // Mostly the next seq; sometimes an old one (a retry, or pipelined requests applied out of
      // order) or a jump ahead.
      const r = rng.int(10);
      const seq = r < 7 ? last + 1 : r < 9 ? Math.max(1, last - rng.int(12)) : last + 1 + rng.int(20);
      const tag = { clientId, seq };
      const got = table.lookup(tag);
      const want = reference.lookup(tag);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        t.fail(`seed ${seed} step ${step}: lookup ${clientId}#${seq} gave ${JSON.stringify(got)}, reference ${JSON.stringify(want)}`);
        return;
      }
      if (got.kind === 'new') {
        const result: KvResult = { kind: 'put' };
        table.record(tag, result);
        reference.record(tag, result);
        next.set(clientId, Math.max(last, seq));
      }
      if (rng.int(50) === 0) {
        // A snapshot and a restore in between, as a restarted replica would do.
        const restored = new SessionTable(limits);
        restored.restore(table.entries());
        table = restored;
      }
    }
    if (JSON.stringify(table.entries()) !== JSON.stringify(reference.entries())) {
      t.fail(`seed ${seed}: the remembered entries differ from the reference`);
      return;
    }
  }
  t.pass('300 seeds, 400 steps each: same lookups, same entries');
});
