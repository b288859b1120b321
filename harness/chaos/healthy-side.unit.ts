/**
 * Availability both ways on hand-made histories: which replicas a fault impairs, and per period
 * what the clients saw against what the replicas no fault impaired served.
 */
import t from 'tap';
import { groups, isolate } from '../proxy/partition-shapes.js';
import { operations, type ClientEvent, type HistoryEntry } from './history.js';
import { checkHealthySide, impairedBy } from './healthy-side.js';

const ids = ['n1', 'n2', 'n3'];

t.test('impaired nodes: targets of node faults, the minority of a partition, nothing for clocks', async (t) => {
  t.same(impairedBy({ fault: 'kill', targets: ['n2'] }, undefined, ids), ['n2']);
  t.same(impairedBy({ fault: 'clock', targets: ['n2'] }, undefined, ids), [], 'a replica with a wrong clock is up');
  t.same(impairedBy({ fault: 'partition', targets: ['n1'] }, undefined, ids), ['n1'], 'isolate: the node');
  const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const halves = groups(five, [['n4', 'n5'], ['n1', 'n2', 'n3']]);
  const planned = { id: 1, atMs: 0, fault: 'partition', targets: five, durationMs: 1, params: { shape: 'halves', cut: halves.cut } };
  t.same(impairedBy({ fault: 'partition', targets: five }, planned, five), ['n4', 'n5'], 'halves: the minority side');
  const bridgeCut: Array<[string, string]> = [['n1', 'n2'], ['n2', 'n1'], ['n4', 'n5'], ['n5', 'n4'], ['n1', 'n5'], ['n5', 'n1'], ['n2', 'n4'], ['n4', 'n2']];
  t.same(impairedBy({ fault: 'partition', targets: five }, { ...planned, params: { shape: 'bridge', cut: bridgeCut } }, five), [], 'bridge: still connected');
  const apart = groups(five, [['n1', 'n2'], ['n3', 'n4'], ['n5']]);
  t.same(impairedBy({ fault: 'partition', targets: five }, { ...planned, params: { cut: apart.cut } }, five), five, 'no majority anywhere: everyone');
  t.same(impairedBy({ fault: 'partition', targets: ['n3'] }, { ...planned, params: { cut: isolate(ids, 'n3').cut } }, ids), ['n3']);
});

type Ev = [process: number, type: ClientEvent['type'], f: ClientEvent['f'], timeMs: number, node: string, error?: string];
const history = (...events: Ev[]): HistoryEntry[] =>
  events.map(([process, type, f, timeMs, node, error]) => ({ process, type, f, key: 'k', value: null, time: timeMs * 1e6, node, ...(error === undefined ? {} : { error }) }));

t.test('the clients waited on the cut-off replica while the others served', async (t) => {
  const h = history(
    [1, 'invoke', 'read', 0, 'n1'],
    [1, 'ok', 'read', 10, 'n1'],
    [2, 'invoke', 'read', 1100, 'n1'], // n1 is cut off from 1000 to 3000
    [2, 'info', 'read', 2100, 'n1', 'timeout'],
    [3, 'invoke', 'read', 1200, 'n2'],
    [3, 'ok', 'read', 1210, 'n2'],
    [4, 'invoke', 'read', 1300, 'n3'],
    [4, 'ok', 'read', 1330, 'n3'],
    [3, 'invoke', 'read', 3500, 'n1'],
    [3, 'ok', 'read', 3510, 'n1'],
  );
  const r = checkHealthySide(
    operations(h),
    [{ fault: 'partition', startMs: 1000, endMs: 3000, impaired: ['n1'] }],
    [
      { period: 'none', durationMs: 2000 },
      { period: 'partition', durationMs: 2000 },
    ],
    { healMs: null, endMs: 4000 },
  );
  const p = r.byPeriod.find((x) => x.period === 'partition')!;
  t.same(p.impaired, ['n1']);
  t.same([p.clients.ok, p.clients.info], [2, 1], 'the clients saw 2 ok and 1 unknown');
  t.same([p.healthy.ok, p.healthy.fail, p.healthy.info], [2, 0, 0], 'the healthy side answered everything it was asked');
  t.equal(p.healthy.okPerSec, 1, 'ok/s over the period');
  t.equal(p.onImpaired.info, 1);
  t.equal(p.onImpaired.clientSeconds, 1, 'a client waited 1 s on the cut-off replica');
  t.equal(p.healthy.p50Ms, 30, 'latency of ok operations');
  const none = r.byPeriod.find((x) => x.period === 'none')!;
  t.same([none.clients.ok, none.healthy.ok, none.onImpaired.ok], [2, 2, 0], 'outside faults n1 is healthy again');
  t.same(
    r.byReplica.filter((x) => x.period === 'partition').map((x) => [x.node, x.ok, x.info]),
    [
      ['n1', 0, 1],
      ['n2', 1, 0],
      ['n3', 1, 0],
    ],
    'per replica',
  );
});
