/**
 * Stale reads (`--read-consistency stale`): reads are taken out of the linearizability check, and
 * a read may return any value some non-failed write or cas was invoked with before it returned,
 * or nothing; anything else is a phantom value.
 */
import t from 'tap';
import { isClient, operations, type ClientEvent, type HistoryEntry } from './history.js';
import { phantomReads, withoutReads } from './stale-reads.js';

type Ev = [process: number, type: ClientEvent['type'], f: ClientEvent['f'], key: string, value: ClientEvent['value'], timeMs: number];
const history = (...events: Ev[]): HistoryEntry[] => events.map(([process, type, f, key, value, timeMs]) => ({ process, type, f, key, value, time: timeMs * 1e6 }));

t.test('old values, values of writes still running, and nothing are fine; made-up values are not', async (t) => {
  const h = history(
    [1, 'invoke', 'write', 'k', '1', 0],
    [1, 'ok', 'write', 'k', '1', 10],
    [1, 'invoke', 'write', 'k', '2', 20],
    [1, 'ok', 'write', 'k', '2', 30],
    [2, 'invoke', 'read', 'k', null, 40],
    [2, 'ok', 'read', 'k', '1', 45], // stale, but written
    [3, 'invoke', 'cas', 'k', ['2', '3'], 50],
    [4, 'invoke', 'read', 'k', null, 55],
    [4, 'ok', 'read', 'k', '3', 60], // the cas still running: fine
    [3, 'info', 'cas', 'k', ['2', '3'], 90],
    [5, 'invoke', 'read', 'k', null, 100],
    [5, 'ok', 'read', 'k', null, 101], // nothing: fine
    [6, 'invoke', 'write', 'k', '4', 110],
    [6, 'fail', 'write', 'k', '4', 111],
    [7, 'invoke', 'read', 'k', null, 120],
    [7, 'ok', 'read', 'k', '4', 121], // a failed write's value: phantom
    [8, 'invoke', 'read', 'k', null, 130],
    [8, 'ok', 'read', 'k', '5', 131], // written later only: phantom
    [9, 'invoke', 'write', 'k', '5', 140],
    [9, 'ok', 'write', 'k', '5', 150],
  );
  const phantom = phantomReads(operations(h));
  t.same(phantom.map((p) => [p.process, p.value]), [[7, '4'], [8, '5']]);
  const rest = withoutReads(h.filter(isClient));
  t.ok(rest.every((e) => e.f !== 'read') && rest.length === 10, 'without reads: the writes and the cas, invokes and completions');
});
