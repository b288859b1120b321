/** The §6 JSON Lines history format (history.ts) and pairing events into operations (operations.ts). */
import t from 'tap';
import { HistoryError, parseHistoryJsonl } from './history.js';
import { pairOperations, partitionByKey } from './operations.js';

const SECTION_6 = `
{"process": 3, "type": "invoke", "f": "write", "key": "k1", "value": "7", "time": 1200450}
{"process": 3, "type": "ok",     "f": "write", "key": "k1", "value": "7", "time": 1201877}
{"process": 4, "type": "invoke", "f": "read",  "key": "k1", "value": null, "time": 1201900}
{"process": 4, "type": "ok",     "f": "read",  "key": "k1", "value": "7", "time": 1202300}
{"process": 5, "type": "invoke", "f": "cas",   "key": "k1", "value": ["7", "8"], "time": 1202400}
{"process": 5, "type": "fail",   "f": "cas",   "key": "k1", "value": ["7", "8"], "time": 1202900}
`;

t.test('parses the example of docs/design.md §6.1', async (t) => {
  const { events, nemesis } = parseHistoryJsonl(SECTION_6);
  t.equal(events.length, 6);
  t.same(nemesis, []);
  t.same(events[4], { process: 5, type: 'invoke', f: 'cas', key: 'k1', value: ['7', '8'], time: 1202400 });
  t.same(events[3]?.value, '7');
});

t.test('nemesis (non-numeric process) events are returned apart, as they were', async (t) => {
  const text = [
    '{"process": "nemesis", "type": "info", "f": "partition", "value": {"n1": ["n2"]}, "time": 5}',
    '{"process": 1, "type": "invoke", "f": "delete", "key": "a", "time": 6}',
    '{"process": null, "type": "info", "f": "kill", "time": 7}',
  ].join('\n');
  const { events, nemesis } = parseHistoryJsonl(text);
  t.same(events, [{ process: 1, type: 'invoke', f: 'delete', key: 'a', value: null, time: 6 }]);
  t.same(nemesis, [
    { process: 'nemesis', type: 'info', f: 'partition', value: { n1: ['n2'] }, time: 5 },
    { process: null, type: 'info', f: 'kill', time: 7 },
  ]);
});

t.test('cas may expect absence; reads of an absent key return null', async (t) => {
  const text = [
    '{"process": 1, "type": "invoke", "f": "cas", "key": "a", "value": [null, "x"], "time": 1}',
    '{"process": 2, "type": "invoke", "f": "read", "key": "a", "time": 2}',
    '{"process": 2, "type": "ok", "f": "read", "key": "a", "value": null, "time": 3}',
  ].join('\r\n');
  const { events } = parseHistoryJsonl(text);
  t.same(events.map((e) => e.value), [[null, 'x'], null, null]);
});

t.test('errors name the line', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['{"process": 1, "type": "invoke"', /line 1: not JSON/],
    ['\n[1, 2]', /line 2: expected a JSON object/],
    ['{"process": 1, "type": "done", "f": "read", "key": "a", "time": 1}', /line 1: "type" must be/],
    ['{"process": 1, "type": "ok", "f": "append", "key": "a", "time": 1}', /"f" must be read, write, cas or delete/],
    ['{"process": 1, "type": "ok", "f": "read", "key": 3, "time": 1}', /"key" must be a string/],
    ['{"process": 1, "type": "ok", "f": "read", "key": "a"}', /"time" must be a number/],
    ['{"process": 1, "type": "invoke", "f": "write", "key": "a", "value": 7, "time": 1}', /a write's value must be a string/],
    ['{"process": 1, "type": "invoke", "f": "cas", "key": "a", "value": ["x"], "time": 1}', /cas value must be \[expected or null, new\]/],
    ['{"process": 1, "type": "ok", "f": "read", "key": "a", "value": 7, "time": 1}', /a read's value must be a string or null/],
  ];
  for (const [text, message] of cases) t.throws(() => parseHistoryJsonl(text), { name: 'HistoryError', message }, message.source);
});

t.test('pairing: ok, fail, info and never-completed operations', async (t) => {
  const { events } = parseHistoryJsonl(
    [
      '{"process": 1, "type": "invoke", "f": "write", "key": "a", "value": "1", "time": 10}',
      '{"process": 2, "type": "invoke", "f": "read", "key": "a", "time": 11}',
      '{"process": 1, "type": "info", "f": "write", "key": "a", "value": "1", "time": 20}',
      '{"process": 2, "type": "ok", "f": "read", "key": "a", "value": "1", "time": 21}',
      '{"process": 3, "type": "invoke", "f": "delete", "key": "b", "time": 22}',
      '{"process": 3, "type": "fail", "f": "delete", "key": "b", "time": 23}',
      '{"process": 4, "type": "invoke", "f": "cas", "key": "b", "value": ["1", "2"], "time": 5}',
      '{"process": 5, "type": "invoke", "f": "read", "key": "b", "time": 30}',
      '{"process": 5, "type": "info", "f": "read", "key": "b", "time": 31}',
    ].join('\n'),
  );
  const paired = pairOperations(events);
  t.equal(paired.failed, 1);
  t.equal(paired.infoReads, 1);
  t.same(
    paired.ops.map((o) => [o.id, o.process, o.f, o.key, o.value, o.status, o.invokeTime, o.returnTime]),
    [
      [0, 4, 'cas', 'b', ['1', '2'], 'info', 5, Infinity],
      [1, 1, 'write', 'a', '1', 'info', 10, Infinity],
      [2, 2, 'read', 'a', '1', 'ok', 11, 21],
    ],
    'sorted by invoke; info and open operations return at +infinity',
  );
  t.same([...partitionByKey(paired.ops).keys()], ['b', 'a']);
});

t.test('pairing refuses what cannot happen', async (t) => {
  t.throws(
    () => pairOperations([{ process: 1, type: 'ok', f: 'read', key: 'a', value: null, time: 1 }]),
    new HistoryError('process 1: ok read at time 1 has no invoke'),
  );
  t.throws(
    () =>
      pairOperations([
        { process: 1, type: 'invoke', f: 'read', key: 'a', value: null, time: 1 },
        { process: 1, type: 'ok', f: 'read', key: 'b', value: null, time: 2 },
      ]),
    /is for key "b" but the invoke was for "a"/,
  );
});
