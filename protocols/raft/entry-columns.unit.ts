/** The log's typed-array columns and byte chunks (entry-columns.ts), against a plain array. */
import t, { type Test } from 'tap';
import { SeededRng } from '../common/rng.js';
import { EntryColumns } from './entry-columns.js';
import type { LogEntry } from './types.js';

function randomEntry(rng: SeededRng, term: number, big: boolean): LogEntry {
  const kind = (['noop', 'command', 'config'] as const)[rng.int(3)] as LogEntry['kind'];
  if (kind === 'noop') return { index: 0, term, kind, data: null };
  const size = big ? rng.between(900_000, 2_500_000) : rng.between(0, 600);
  const data = new Uint8Array(size);
  for (let k = 0; k < size; k += 97) data[k] = rng.int(256);
  return { index: 0, term, kind, data };
}

function same(t: Test, got: LogEntry, want: LogEntry, what: string): void {
  t.equal(got.term, want.term, `${what}: term`);
  t.equal(got.kind, want.kind, `${what}: kind`);
  t.same(got.data === null ? null : [...got.data], want.data === null ? null : [...want.data], `${what}: bytes`);
}

t.test('random pushes, truncations and front drops read back as a plain array does', async (t) => {
  for (let seed = 1; seed <= 8; seed++) {
    const rng = new SeededRng(seed);
    const columns = new EntryColumns();
    let model: LogEntry[] = [];
    /** Views handed out earlier, with the bytes they held then: they must never change. */
    const handedOut: { view: Uint8Array; bytes: number[] }[] = [];
    let term = 1;
    for (let step = 0; step < 3000; step++) {
      const roll = rng.int(100);
      if (roll < 80) {
        if (rng.chance(0.05)) term++;
        const entry = randomEntry(rng, term, rng.chance(0.002));
        columns.push(entry);
        model.push(entry);
      } else if (roll < 88 && model.length > 0) {
        const keep = rng.int(model.length + 1);
        columns.truncate(keep);
        model = model.slice(0, keep);
      } else if (roll < 94 && model.length > 0) {
        const drop = rng.int(model.length + 1);
        columns.dropFront(drop);
        model = model.slice(drop);
      } else if (model.length > 0) {
        const row = rng.int(model.length);
        const data = columns.entry(row, 0).data;
        if (data !== null && data.length > 0) handedOut.push({ view: data, bytes: [...data] });
      }
      t.equal(columns.length, model.length);
    }
    model.forEach((want, row) => {
      same(t, columns.entry(row, 100 + row), want, `seed ${seed} row ${row}`);
      t.equal(columns.term(row), want.term);
      t.equal(columns.dataBytes(row), want.data?.length ?? 0);
    });
    t.ok(handedOut.length > 0, `seed ${seed}: views were handed out`);
    const changed = handedOut.filter(({ view, bytes }) => view.length !== bytes.length || view.some((b, k) => b !== bytes[k]));
    t.equal(changed.length, 0, `seed ${seed}: no view handed out changed after later truncations and appends`);
  }
});

t.test('an entry reads back with its index, and its bytes are a copy', async (t) => {
  const columns = new EntryColumns();
  const data = Uint8Array.of(1, 2, 3);
  columns.push({ index: 7, term: 2, kind: 'command', data });
  data[0] = 9;
  const entry = columns.entry(0, 7);
  t.same(entry, { index: 7, term: 2, kind: 'command', data: Uint8Array.of(1, 2, 3) });
  t.throws(() => columns.entry(1, 8), /outside/);
});

t.test('appends after a truncation never overwrite the truncated bytes', async (t) => {
  const columns = new EntryColumns();
  columns.push({ index: 1, term: 1, kind: 'command', data: Uint8Array.of(1, 1, 1) });
  const old = columns.entry(0, 1).data as Uint8Array;
  columns.truncate(0);
  columns.push({ index: 1, term: 2, kind: 'command', data: Uint8Array.of(2, 2, 2) });
  t.same([...old], [1, 1, 1], 'the view taken before the truncation');
  t.same([...(columns.entry(0, 1).data as Uint8Array)], [2, 2, 2]);
});

t.test('dropping rows from the front lets go of the chunks only they used', async (t) => {
  const columns = new EntryColumns();
  const kib = new Uint8Array(1024);
  for (let k = 0; k < 8192; k++) columns.push({ index: k + 1, term: 1, kind: 'command', data: kib });
  const chunksOf = (c: EntryColumns): number => (c as unknown as { bytes: { chunks: unknown[] } }).bytes.chunks.length;
  const before = chunksOf(columns);
  t.ok(before >= 8, `8 MiB of entries in ${before} chunks`);
  columns.dropFront(8000);
  t.ok(chunksOf(columns) <= 2, `${chunksOf(columns)} chunks hold the last 192 entries`);
  t.equal(columns.entry(191, 8192).data?.length, 1024);
  columns.dropFront(192);
  t.equal(chunksOf(columns), 1, 'an empty log keeps only the chunk it appends to');
  columns.push({ index: 8193, term: 3, kind: 'noop', data: null });
  t.same(columns.entry(0, 8193), { index: 8193, term: 3, kind: 'noop', data: null });
});
