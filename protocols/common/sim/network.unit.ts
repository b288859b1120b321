/**
 * The shared simulation world's network (network.ts) and agenda (event-queue.ts): partitions cut
 * messages off until their own heal, a stale heal does nothing, a healed network without faults
 * neither drops nor duplicates, and the agenda replays ties in insertion order.
 */
import t from 'tap';
import { SeededRng } from '../rng.js';
import { EventQueue } from './event-queue.js';
import { Network } from './network.js';
import { TICK } from './time.js';

const hostile = { dropRate: 0.5, duplicateRate: 0.5, slowRate: 0.5 };

t.test('a partition cuts messages between sides until its heal; a stale heal does nothing', async (t) => {
  const net = new Network<string>(new SeededRng(1), { dropRate: 0, duplicateRate: 0, slowRate: 0 });
  const ids = ['a', 'b', 'c'];
  const first = net.partition(new Map([['a', 0], ['b', 1], ['c', 1]]), ids);
  t.notOk(net.linked('a', 'b'));
  t.ok(net.linked('b', 'c'));
  t.same(net.deliveries('a', 'b', 0), [], 'a message across the cut is dropped');
  t.equal(net.deliveries('b', 'c', 0).length, 1, 'a message within a side arrives once');
  const second = net.partition(new Map([['a', 0], ['b', 0], ['c', 1]]), ids);
  t.notOk(net.isCurrent(first), 'the first partition was replaced');
  t.ok(net.isCurrent(second));
  t.ok(net.heal());
  t.notOk(net.isCurrent(second), 'a heal makes the partition stale');
  t.notOk(net.heal(), 'healing a whole network changes nothing');
  t.ok(net.linked('a', 'c'));
});

t.test('a partition that put everyone on one side moves a replica to a third side', async (t) => {
  const net = new Network<number>(new SeededRng(7), hostile);
  const sides = new Map([[0, 1], [1, 1], [2, 1]]);
  net.partition(sides, [0, 1, 2]);
  t.equal(new Set(sides.values()).size, 2);
  t.equal([...sides.values()].filter((side) => side === 2).length, 1);
});

t.test('faults drop and duplicate; after the final heal every message arrives exactly once', async (t) => {
  const net = new Network<number>(new SeededRng(3), hostile);
  const counts = Array.from({ length: 400 }, () => net.deliveries(0, 1, 0).length);
  t.ok(counts.includes(0), 'some dropped');
  t.ok(counts.includes(2), 'some duplicated');
  net.faulty = false;
  t.ok(Array.from({ length: 400 }, () => net.deliveries(0, 1, 0).length).every((n) => n === 1));
});

t.test('slow links end with the faults only when asked (PBFT), and stay otherwise', async (t) => {
  const slowest = (net: Network<number>) => Math.max(...Array.from({ length: 400 }, () => net.deliveries(0, 1, 0)[0] as number));
  const keeps = new Network<number>(new SeededRng(5), { dropRate: 0, duplicateRate: 0, slowRate: 0.5 });
  const ends = new Network<number>(new SeededRng(5), { dropRate: 0, duplicateRate: 0, slowRate: 0.5 }, true);
  keeps.faulty = ends.faulty = false;
  t.ok(slowest(keeps) > TICK, 'Raft and Multi-Paxos: still slow after the heal');
  t.ok(slowest(ends) <= TICK, 'PBFT: under a tick after the heal');
});

t.test('the agenda pops by time, ties in insertion order', async (t) => {
  const queue = new EventQueue<string>();
  queue.push(5, 'late');
  queue.push(1, 'first');
  queue.push(3, 'tie 1');
  queue.push(3, 'tie 2');
  queue.push(3, 'tie 3');
  const order: string[] = [];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) order.push(next.event);
  t.same(order, ['first', 'tie 1', 'tie 2', 'tie 3', 'late']);
  t.equal(queue.size, 0);
});
