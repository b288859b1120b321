/**
 * Forwarding and follower reads on real processes (Raft and Multi-Paxos): a follower hands client
 * writes to the leader over the replica transport and serves linearizable reads itself at the
 * leader's read index; no request reaches the leader's HTTP API; exactly-once holds across
 * followers; the leader's death gives NO_LEADER or TIMEOUT, never a wrong answer.
 */
import t from 'tap';
import { Cluster } from '../../harness/cluster/cluster.js';
import { kv, until, call } from '../../harness/client/kv-client.js';
import { parsePromText, sampleValue } from '../../harness/client/prom-text.js';

const ok = (r: { status: number }): boolean => r.status === 200;

/** Client requests the replica answered over HTTP (its own /metrics counter), by method. */
async function httpRequests(url: string, method: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('consensus_http_requests_total') && line.includes(`method="${method}"`) && line.includes('route="/kv/:key"')) {
      total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}

for (const protocol of ['raft', 'multipaxos'] as const) {
  t.test(`${protocol}: followers forward over the transport and serve linearizable reads; the leader dies`, async (t) => {
    // A short request timeout: writes in flight when the leader dies answer TIMEOUT sooner.
    const timeouts = { requestTimeoutMs: 2000 };
    const cluster = await Cluster.start({ protocol, nodes: 3, logLevel: 'warn', tuning: timeouts, paxosTuning: timeouts });
    t.teardown(() => cluster.stopAll());
    const leader = await cluster.waitForLeader(20_000);
    const [a, b] = cluster.replicas.filter((r) => r.id !== leader);
    if (a === undefined || b === undefined) throw new Error('no followers');
    const leaderUrl = cluster.replica(leader).httpUrl;
    await until(() => kv.put(a.httpUrl, 'warm', 'up'), ok, 20_000, 'a first write through a follower');
    const putsBefore = await httpRequests(leaderUrl, 'PUT');
    const getsBefore = await httpRequests(leaderUrl, 'GET');

    for (let i = 0; i < 30; i++) {
      const put = await kv.put(a.httpUrl, 'k', `v${i}`);
      t.equal(put.status, 200, `write ${i} through follower ${a.id}`);
      // Linearizable: the write was acknowledged, so a read through the other follower sees it.
      const got = await kv.get(b.httpUrl, 'k');
      if (got.body['value'] !== `v${i}`) t.fail(`read ${i} through ${b.id} returned ${JSON.stringify(got.body)}, not v${i}`);
    }
    t.pass('30 writes through one follower, each read back at once through the other');
    t.equal(await httpRequests(leaderUrl, 'PUT'), putsBefore, 'no write reached the leader over HTTP');
    t.equal(await httpRequests(leaderUrl, 'GET'), getsBefore, 'nor any read');
    const metricsOf = async (url: string) => parsePromText(await (await fetch(`${url}/metrics`)).text());
    t.ok((sampleValue(await metricsOf(a.httpUrl), 'consensus_forwarded_writes_total') ?? 0) >= 30, `${a.id} forwarded the writes over the transport`);
    t.ok((sampleValue(await metricsOf(b.httpUrl), 'consensus_forwarded_reads_total') ?? 0) >= 30, `${b.id} served the reads at the leader's read index`);

    const session = { clientId: 'forwarding-test', seq: 1 };
    const first = await call(a.httpUrl, 'POST', '/kv/once/cas', { expected: null, value: 'first' }, session);
    const retry = await call(b.httpUrl, 'POST', '/kv/once/cas', { expected: null, value: 'second' }, session);
    t.same([first.status, retry.status], [200, 200], 'a retry through another follower gets the first result');
    t.equal((await kv.get(b.httpUrl, 'once')).body['value'], 'first', 'and was not applied again');

    // The leader dies under forwarded load: every answer is right, or says it is unknown.
    const follower = a;
    const outcomes = new Map<number, number>();
    const acked: number[] = [];
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 25; i++) {
        const n = w * 100 + i;
        const res = await kv.put(follower.httpUrl, `c${n}`, `${n}`).catch(() => ({ status: 0, body: {} }));
        outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
        if (res.status === 200) acked.push(n);
        if (i === 5 && w === 0) await cluster.kill(leader);
      }
    });
    await Promise.all(writers);
    for (const status of outcomes.keys()) t.ok([200, 429, 503, 504].includes(status), `answer ${status}: ok, OVERLOADED, NO_LEADER or TIMEOUT`);
    await cluster.waitForLeader(20_000, [leader]);
    for (const n of acked) {
      const res = await until(() => kv.get(follower.httpUrl, `c${n}`), ok, 20_000, `acknowledged c${n}`);
      if (res.body['value'] !== `${n}`) t.fail(`c${n} was acknowledged but reads ${JSON.stringify(res.body)}`);
    }
    t.pass(`${acked.length} acknowledged writes through the follower are all there (${JSON.stringify(Object.fromEntries(outcomes))})`);
  });
}
