import t from 'tap';
import { build } from '../../nodes/http/app.js';
import type { KvService } from '../../nodes/http/kv-service.js';
import { until } from '../client/kv-client.js';
import { LoadRunner, quantile } from './load-runner.js';
import { testAdminToken } from '../../nodes/http/admin-test-support.js';

const service: KvService = {
  id: 'n1', protocol: 'raft', leader: () => 'n1', httpUrlOf: () => null,
  execute: async () => ({ kind: 'put' }) as never,
  readLinearizable: async () => null, readStale: () => null, status: () => ({}), healthy: () => true,
};

t.test('quantile picks from sorted samples', async (t) => {
  t.equal(quantile([], 0.5), 0);
  t.equal(quantile([1, 2, 3, 4], 0.5), 3);
  t.equal(quantile([1, 2, 3, 4], 0.99), 4);
});

t.test('the heavy load reports answered operations and latency once a second', async (t) => {
  const app = build({ adminToken: testAdminToken, service });
  t.teardown(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  let urls = [url];
  const load = new LoadRunner({ urls: () => urls, concurrency: 2 });
  t.teardown(() => load.stop());
  t.same(load.view(), { running: false, points: [] });
  load.start();
  const view = await until(async () => load.view(), (v) => v.points.some((p) => p.okPerSec > 0), 10_000, 'a point with answered operations');
  t.equal(view.running, true);
  t.ok(view.points.at(-1)!.p99Ms >= view.points.at(-1)!.p50Ms);
  urls = [];
  await load.stop();
  t.equal(load.view().running, false);
});
