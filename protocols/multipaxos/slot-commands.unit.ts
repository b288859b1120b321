/** The off-heap slot → command table (slot-commands.ts, command-chunks.ts), against a plain Map. */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import { SlotCommands } from './slot-commands.js';
import type { Ballot, Command } from './types.js';

function randomCommand(rng: SeededRng, origin: Ballot): Command {
  if (rng.chance(0.1)) return { kind: 'noop', origin, payloads: [] };
  const payloads: Uint8Array[] = [];
  const count = rng.chance(0.1) ? 0 : rng.between(1, 30);
  for (let k = 0; k < count; k++) {
    const size = rng.chance(0.002) ? rng.between(1_100_000, 1_500_000) : rng.between(0, 300);
    const p = new Uint8Array(size);
    for (let j = 0; j < size; j += 37) p[j] = rng.int(256);
    payloads.push(p);
  }
  return { kind: 'batch', origin, payloads };
}

const bytesOf = (c: Command) => ({ kind: c.kind, origin: { ...c.origin }, payloads: c.payloads.map((p) => [...p]) });

t.test('random sets, replacements and compactions read back as a plain Map does', async (t) => {
  for (let seed = 1; seed <= 6; seed++) {
    const rng = new SeededRng(seed);
    const table = new SlotCommands();
    const model = new Map<number, { command: Command; ballot: Ballot }>();
    const handedOut: { view: Uint8Array; bytes: number[] }[] = [];
    let round = 1;
    let compacted = 0;
    let top = 0;
    for (let step = 0; step < 2500; step++) {
      const roll = rng.int(100);
      if (rng.chance(0.03)) round++;
      const ballot = { round, leader: `n${1 + rng.int(3)}` };
      if (roll < 70) {
        // Mostly the next slots, sometimes far ahead (a decision learned early) or an old one again.
        const slot = rng.chance(0.05) ? top + rng.between(1, 5000) : rng.chance(0.1) && top > compacted ? rng.between(compacted + 1, top) : top + 1;
        top = Math.max(top, slot);
        const command = randomCommand(rng, { round: rng.int(round + 1), leader: 'n1' });
        table.set(slot, command, ballot);
        model.set(slot, { command, ballot });
      } else if (roll < 75 && top > compacted) {
        compacted = rng.between(compacted + 1, top);
        table.deleteThrough(compacted);
        for (const s of model.keys()) if (s <= compacted) model.delete(s);
      } else if (model.size > 0) {
        const slots = [...model.keys()];
        const c = table.command(slots[rng.int(slots.length)] as number);
        for (const view of c?.payloads ?? []) if (view.length > 0) handedOut.push({ view, bytes: [...view] });
      }
      t.equal(table.size, model.size);
    }
    t.same([...table.slots()], [...model.keys()], `seed ${seed}: the slots, in the order a Map keeps`);
    for (const [slot, want] of model) {
      t.same(bytesOf(table.command(slot) as Command), bytesOf(want.command), `seed ${seed} slot ${slot}: command`);
      t.same(table.ballot(slot), want.ballot, `seed ${seed} slot ${slot}: ballot`);
      t.ok(table.has(slot));
    }
    t.equal(table.command(top + 1), undefined, 'an unknown slot has no command');
    const changed = handedOut.filter(({ view, bytes }) => view.length !== bytes.length || view.some((b, k) => b !== bytes[k]));
    t.ok(handedOut.length > 0, `seed ${seed}: views were handed out`);
    t.equal(changed.length, 0, `seed ${seed}: no view handed out changed after later sets and compactions`);
  }
});

t.test('forgotten slots free their chunks and rows, whatever the order they go in', async (t) => {
  const table = new SlotCommands();
  const origin = { round: 1, leader: 'n1' };
  const big = { kind: 'batch' as const, origin, payloads: [new Uint8Array(200_000)] };
  for (let slot = 1; slot <= 200; slot++) table.set(slot, big);
  const held = table.chunkCount;
  t.ok(held > 10, `200 commands of 200 KB fill ${held} chunks`);
  table.set(10_000, big); // a decision far ahead of the rest, kept while they go
  table.deleteThrough(200);
  t.ok(table.chunkCount <= 2, `after compacting slots 1-200: ${table.chunkCount} chunks (the far slot's and the current one)`);
  t.equal(table.size, 1);
  for (let round = 0; round < 50; round++) {
    for (let slot = 201 + round * 100; slot < 301 + round * 100; slot++) table.set(slot, big);
    table.deleteThrough(300 + round * 100);
  }
  t.ok(table.chunkCount <= 3, `after 50 more rounds: ${table.chunkCount} chunks, not a growing number`);
  t.same(table.command(10_000)?.payloads.map((p) => p.length), [200_000], 'the far slot is intact');
});

t.test('rows of one leadership share their ballot objects', async (t) => {
  const table = new SlotCommands();
  for (let slot = 1; slot <= 100; slot++) {
    // Each decoded message brings its own ballot objects.
    table.set(slot, { kind: 'batch', origin: { round: 3, leader: 'n2' }, payloads: [new Uint8Array([slot])] }, { round: 3, leader: 'n2' });
  }
  const first = table.ballot(1);
  t.ok([...table.slots()].every((s) => table.ballot(s) === first && table.command(s)?.origin === first), 'one ballot object for all 100 rows');
});
