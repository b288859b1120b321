/** The EDN reader (edn.ts) and Jepsen history.edn files (jepsen-edn.ts). */
import t from 'tap';
import { checkHistory } from './check-history.js';
import { EdnError, EdnSet, EdnSymbol, Keyword, readEdnAll } from './edn.js';
import type { EdnMap } from './edn.js';
import { parseJepsenEdn } from './jepsen-edn.js';

t.test('EDN: scalars', async (t) => {
  t.same(readEdnAll('nil true false 42 -7 +3 1.5 2e3 7N 9007199254740993 "a\\"b\\n" \\a \\newline'), [
    null,
    true,
    false,
    42,
    -7,
    3,
    1.5,
    2000,
    7,
    9007199254740993n,
    'a"b\n',
    'a',
    '\n',
  ]);
  const [kw, ns, sym] = readEdnAll(':type :jepsen/nemesis java.net.SocketTimeoutException');
  t.equal(kw, Keyword.of('type'), 'keywords are interned');
  t.equal((ns as Keyword).name, 'jepsen/nemesis');
  t.ok(sym instanceof EdnSymbol);
  t.equal((sym as EdnSymbol).name, 'java.net.SocketTimeoutException');
});

t.test('EDN: collections, comments, discards and tags', async (t) => {
  const [map] = readEdnAll('{:a [1 (2 3)], "s" #{:x}, :b nil} ; comment');
  const m = map as EdnMap;
  t.same(m.get(Keyword.of('a')), [1, [2, 3]]);
  t.ok(m.get('s') instanceof EdnSet);
  t.equal(m.get(Keyword.of('b')), null);
  t.same(readEdnAll('[1 #_ 2 3]'), [[1, 3]], '#_ discards the next element');
  t.same(readEdnAll('#inst "2024-01-01T00:00:00Z" #jepsen.history.Op{:index 0}'), [
    '2024-01-01T00:00:00Z',
    new Map([[Keyword.of('index'), 0]]),
  ], 'tags are dropped');
  t.same(readEdnAll(''), []);
  t.same(readEdnAll('[1,2,,3]'), [[1, 2, 3]], 'commas are whitespace');
});

t.test('EDN: errors say where', async (t) => {
  t.throws(() => readEdnAll('{:a 1'), EdnError);
  t.throws(() => readEdnAll('[1 2'), /unexpected end of input/);
  t.throws(() => readEdnAll('{:a}'), /even number of forms/);
  t.throws(() => readEdnAll('\n  ]'), /EDN line 2, column 4: unexpected \]/);
  t.throws(() => readEdnAll('"abc'), /unterminated string/);
});

/** Shaped like a cas-register test's history.edn (Jepsen 0.2/0.3). */
const REGISTER_HISTORY = `{:type :invoke, :f :read, :value nil, :process 0, :time 13843257, :index 0}
{:type :invoke, :f :write, :value 3, :process 1, :time 13907443, :index 1}
{:type :ok, :f :read, :value nil, :process 0, :time 15231062, :index 2}
{:type :ok, :f :write, :value 3, :process 1, :time 21564209, :index 3}
{:type :invoke, :f :cas, :value [3 1], :process 2, :time 22017553, :index 4}
{:type :info, :f :start, :value nil, :process :nemesis, :time 22100000, :index 5}
{:type :info, :f :start, :value [:isolated {"n1" #{"n2" "n3"}, "n2" #{"n1"}}], :process :nemesis, :time 22200000, :index 6}
{:type :ok, :f :cas, :value [3 1], :process 2, :time 25000000, :index 7}
{:type :invoke, :f :write, :value 4, :process 0, :time 26000000, :index 8}
{:type :invoke, :f :cas, :value [4 0], :process 1, :time 26100000, :index 9}
{:type :fail, :f :cas, :value [4 0], :process 1, :time 27000000, :index 10, :error :precondition-failed}
{:type :info, :f :write, :value 4, :process 0, :time 31000000, :index 11, :error :timeout, :exception {:via [{:type java.net.SocketTimeoutException, :message "Read timed out", :at [java.net.SocketInputStream socketRead0 "SocketInputStream.java" -2]}]}}
#jepsen.history.Op{:index 12, :time 32000000, :type :invoke, :process 5, :f :read, :value nil}
#jepsen.history.Op{:index 13, :time 33000000, :type :ok, :process 5, :f :read, :value 4}
{:type :invoke, :f :read, :value nil, :process 2, :time 34000000, :index 14}
{:type :info, :f :read, :value nil, :process 2, :time 35000000, :index 15, :error :timeout}
`;

t.test('Jepsen: a single-register history', async (t) => {
  const { events, nemesis } = parseJepsenEdn(REGISTER_HISTORY);
  t.equal(events.length, 14);
  t.equal(nemesis.length, 2);
  t.same(nemesis[1], {
    type: 'info',
    f: 'start',
    value: ['isolated', { n1: ['n2', 'n3'], n2: ['n1'] }],
    process: 'nemesis',
    time: 22200000,
    index: 6,
  });
  t.same(events[1], { process: 1, type: 'invoke', f: 'write', key: 'register', value: '3', time: 13907443 });
  t.same(events[4]?.value, ['3', '1']);
  t.same(events[11], { process: 5, type: 'ok', f: 'read', key: 'register', value: '4', time: 33000000 });
  const result = checkHistory(events);
  t.equal(result.valid, true, 'the info write of 4 took effect, as the read shows');
  t.match(result.stats, { ops: 5, failedOps: 1, infoOps: 1, infoReads: 1 });
});

t.test('Jepsen: the same history with a read no order explains', async (t) => {
  const broken = REGISTER_HISTORY.replace(':process 5, :f :read, :value 4}', ':process 5, :f :read, :value 3}');
  const result = checkHistory(parseJepsenEdn(broken).events);
  t.equal(result.valid, false);
  t.equal(result.violation?.key, 'register');
  t.match(result.violation?.ops[0], { process: 5, f: 'read', value: '3' });
});

t.test('Jepsen: an independent (keyed) history, as one vector', async (t) => {
  const text = `[{:type :invoke, :f :write, :value [0 3], :process 0, :time 1, :index 0}
 {:type :invoke, :f :read, :value [1 nil], :process 1, :time 2, :index 1}
 {:type :ok, :f :write, :value [0 3], :process 0, :time 3, :index 2}
 {:type :ok, :f :read, :value [1 nil], :process 1, :time 4, :index 3}
 {:type :invoke, :f :cas, :value [0 [3 4]], :process 0, :time 5, :index 4}
 {:type :ok, :f :cas, :value [0 [3 4]], :process 0, :time 6, :index 5}
 {:type :invoke, :f :read, :value [0 nil], :process 1, :time 7, :index 6}
 {:type :ok, :f :read, :value [0 4], :process 1, :time 8, :index 7}]`;
  const { events } = parseJepsenEdn(text);
  t.same(events.map((e) => [e.key, e.value]), [
    ['0', '3'],
    ['1', null],
    ['0', '3'],
    ['1', null],
    ['0', ['3', '4']],
    ['0', ['3', '4']],
    ['0', null],
    ['0', '4'],
  ]);
  const result = checkHistory(events);
  t.equal(result.valid, true);
  t.same(result.keys.map((k) => k.key), ['0', '1']);
});

t.test('Jepsen: a history without :time is ordered by position', async (t) => {
  const { events } = parseJepsenEdn('{:type :invoke, :f :write, :value 1, :process 0}\n{:type :ok, :f :write, :value 1, :process 0}');
  t.same(events.map((e) => e.time), [0, 1]);
});

t.test('Jepsen: what it cannot read', async (t) => {
  t.throws(() => parseJepsenEdn('{:type :invoke, :f :write'), { name: 'HistoryError', message: /EDN line 1/ });
  t.throws(() => parseJepsenEdn('[1 2]'), /operation 1: expected a map/);
  t.throws(() => parseJepsenEdn('{:type :invoke, :f :txn, :value [[:r 1 nil]], :process 0, :time 1, :index 0}'), /operation 1 \(:index 0\): :f txn is not a register operation/);
});
