/**
 * applyInSlices (apply-slices.ts): a burst of committed commands is applied over several event-loop
 * turns, in order, to the same state as applying it at once; a short burst stays in one turn.
 */
import t from 'tap';
import pino from 'pino';
import { Packr } from 'msgpackr';
import { KvStateMachine } from '../protocols/kv/state-machine.js';
import { applyEncodedCommand, encodeCommand } from './command-codec.js';
import { applyInSlices } from './apply-slices.js';
import { TimeSlice } from './snapshots/time-slice.js';

const logger = pino({ level: 'silent' });
const packr = new Packr({ useRecords: false });

function burst(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) =>
    encodeCommand({
      operation: i % 7 === 0 ? { op: 'delete', key: `k${i % 300}` } : { op: 'put', key: `k${i % 300}`, value: `v${i}` },
      session: { clientId: `c${i % 13}`, seq: Math.floor(i / 13) + 1 },
    }),
  );
}

t.test('a burst applied in slices: several turns, the same state byte for byte', async (t) => {
  const commands = burst(5000);
  const once = new KvStateMachine();
  for (const c of commands) applyEncodedCommand(once, c, logger);

  const sliced = new KvStateMachine();
  let applied = 0;
  let atTimer = -1;
  setImmediate(() => (atTimer = applied));
  await applyInSlices(commands, 64, (part) => {
    for (const c of part) applyEncodedCommand(sliced, c, logger);
    applied += part.length;
  }, new TimeSlice(0));
  t.ok(atTimer > 0 && atTimer < 5000, `a callback queued before ran after ${atTimer} of 5000 commands`);
  t.equal(applied, 5000);
  t.same(Buffer.from(packr.pack(sliced.snapshot())), Buffer.from(packr.pack(once.snapshot())), 'the same state, data and sessions');
});

t.test('parts come in order and cover the burst once', async (t) => {
  const seen: number[] = [];
  const sizes: number[] = [];
  await applyInSlices(Array.from({ length: 130 }, (_, i) => i), 64, (part) => {
    seen.push(...part);
    sizes.push(part.length);
  }, new TimeSlice(0));
  t.same(seen, Array.from({ length: 130 }, (_, i) => i));
  t.same(sizes, [64, 64, 2]);
});

t.test('a burst of one part is applied in the same turn', async (t) => {
  let parts = 0;
  const pending = applyInSlices([1, 2, 3], 64, () => void parts++, new TimeSlice(0));
  t.equal(parts, 1, 'applied before the call returned');
  await pending;
});
