import t from 'tap';
import { OutboundQueue } from './outbound-queue.js';

t.test('the message bound refuses the next frame', async (t) => {
  const q = new OutboundQueue(3, 1000);
  t.ok(q.push(Buffer.alloc(10)));
  t.ok(q.push(Buffer.alloc(10)));
  t.notOk(q.isFull());
  t.ok(q.push(Buffer.alloc(10)));
  t.ok(q.isFull());
  t.notOk(q.push(Buffer.alloc(1)), 'tail drop');
  t.equal(q.length, 3);
  t.equal(q.byteLength, 30);
});

t.test('the byte bound refuses a frame that would overflow it', async (t) => {
  const q = new OutboundQueue(100, 25);
  t.ok(q.push(Buffer.alloc(10)));
  t.ok(q.push(Buffer.alloc(10)));
  t.notOk(q.push(Buffer.alloc(6)));
  t.ok(q.push(Buffer.alloc(5)), 'exactly at the bound fits');
  t.equal(q.byteLength, 25);
});

t.test('takeAll empties the queue, oldest first', async (t) => {
  const q = new OutboundQueue(10, 100);
  q.push(Buffer.from([1]));
  q.push(Buffer.from([2]));
  const { frames, bytes } = q.takeAll();
  t.same(frames.map((f) => f[0]), [1, 2]);
  t.equal(bytes, 2);
  t.equal(q.length, 0);
  t.equal(q.byteLength, 0);
});
