/**
 * Read-only requests (OSDI §5.1.3) and the client's reply rule (OSDI §4.1): f+1 matching replies
 * on the ordered path, 2f+1 on the read-only path.
 */
import t from 'tap';
import { ReplyQuorum } from './reply-quorum.js';
import { TestCluster } from './sim/test-cluster.js';

t.test('ReplyQuorum: f+1 matching replies from distinct replicas', async (t) => {
  const q = new ReplyQuorum(1, 2);
  t.equal(q.add(0, 'put'), null);
  t.equal(q.add(0, 'put'), null, 'the same replica twice counts once');
  t.equal(q.add(1, 'cas:ok'), null, 'a different result does not match');
  t.equal(q.add(2, 'put'), 'put');
  t.equal(q.accepted, 'put');
});

t.test('ReplyQuorum: a replica gets one vote, even if it changes its answer', async (t) => {
  const q = new ReplyQuorum(1, 3);
  q.add(3, 'get:=evil');
  q.add(3, 'get:=a');
  q.add(0, 'get:=a');
  t.equal(q.add(1, 'get:=a'), null, 'replica 3 voted evil first');
  t.ok(q.hopeless(4) === false);
  const r = new ReplyQuorum(1, 3);
  r.add(0, 'a');
  r.add(1, 'b');
  t.notOk(r.hopeless(4), "two more answers could still make 'a' reach 3");
  r.add(2, 'c');
  t.ok(r.hopeless(4), 'three different answers of 4: 3 matching can no longer happen, fall back');
});

t.test('ReplyQuorum.resultKey: equal results match, different ones do not', async (t) => {
  t.equal(ReplyQuorum.resultKey({ kind: 'get', value: null }), ReplyQuorum.resultKey({ kind: 'get', value: null }));
  t.not(ReplyQuorum.resultKey({ kind: 'get', value: null }), ReplyQuorum.resultKey({ kind: 'get', value: 'null' }));
  t.not(ReplyQuorum.resultKey({ kind: 'cas', ok: false, current: null }), ReplyQuorum.resultKey({ kind: 'cas', ok: false, current: '' }));
});

t.test('read-only: the origin gathers 2f+1 matching answers from current states', async (t) => {
  const c = new TestCluster(4);
  c.replicas[0]?.submit(c.request('c', 1, 'k', 'v', 0));
  c.run();
  c.replicas[2]?.readOnly({ clientId: 'r', seq: 1, operation: { op: 'get', key: 'k' }, origin: 2 });
  c.run();
  const answers = c.readReplies[2] ?? [];
  t.same(answers.map((a) => a.from).sort(), [0, 1, 2, 3], 'its own answer and three ReadReplies');
  const q = new ReplyQuorum(1, 3);
  let accepted: string | null = null;
  for (const a of answers) accepted = q.add(a.from, ReplyQuorum.resultKey(a.result)) ?? accepted;
  t.equal(accepted, 'get:=v');
  t.equal(c.cores[0]?.status().lastExecuted, 1, 'nothing was ordered for the read');
});

t.test("read-only with a 'wrong-reply' replica: 2f+1 still agree on the right value", async (t) => {
  const c = new TestCluster(4, {}, new Map([[3, 'wrong-reply' as const]]));
  c.replicas[0]?.submit(c.request('c', 1, 'k', 'v', 0));
  c.run();
  c.replicas[1]?.readOnly({ clientId: 'r', seq: 1, operation: { op: 'get', key: 'k' }, origin: 1 });
  c.run();
  const q = new ReplyQuorum(1, 3);
  let accepted: string | null = null;
  for (const a of c.readReplies[1] ?? []) accepted = q.add(a.from, ReplyQuorum.resultKey(a.result)) ?? accepted;
  t.equal(accepted, 'get:=v');
});
