/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download), against a real 3-replica Raft cluster behind the fault proxy. Kill the leader with
 * its button and see another replica lead; cut a link and see it drawn cut; stall a replica's
 * event loop for 300 ms and see the stall marked on its card. Without Chromium this
 * file skips, except in CI (.ci/run installs Chromium and sets DASHBOARD_BROWSER_REQUIRED).
 */
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Cluster } from '../cluster/cluster.js';
import type { FaultProxy } from '../proxy/fault-proxy.js';
import { startDashboard, type Dashboard } from './dashboard-server.js';
import { createProxiedCluster } from './proxied-cluster.js';

const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const required = process.env['DASHBOARD_BROWSER_REQUIRED'] === '1' || process.env['CI'] !== undefined;
const waitMs = 25_000;

const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Rig {
  page: Page;
  cluster: Cluster;
  proxy: FaultProxy;
}

/** Everything the tests start, stopped in reverse order even when a step fails. */
async function startRig(t: Test): Promise<Rig> {
  const stack: Array<() => Promise<unknown>> = [];
  t.teardown(async () => {
    for (const stop of stack.reverse()) await stop().catch(() => undefined);
  });
  const { cluster, proxy } = await createProxiedCluster({ protocol: 'raft', nodes: 3, logLevel: 'warn' });
  stack.push(() => proxy.close());
  stack.push(() => cluster.stopAll());
  await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
  const dashboard: Dashboard & { url: string } = await startDashboard({ protocol: 'raft', cluster, proxy, storeDir: join(tmpdir(), 'no-store-here'), port: 0, pollMs: 200 });
  stack.push(() => dashboard.close());
  const userDataDir = await mkdtemp(join(tmpdir(), 'dashboard-chromium-'));
  stack.push(() => rm(userDataDir, { recursive: true, force: true }));
  const browser: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1280, height: 900 },
    timeout: waitMs,
  });
  stack.push(() => browser.close());
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(waitMs);
  await page.goto(dashboard.url);
  return { page, cluster, proxy };
}

const leaderCard = '.card[data-leader="true"][data-process="up"]';

if (!existsSync(chromiumPath)) {
  if (required) t.fail(`no Chromium at ${chromiumPath}: CI must install it (.ci/run runs apt-get install chromium)`);
  else t.plan(0, `skipped: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
} else {
  t.test('the dashboard in Chromium, against a real Raft cluster', async (t) => {
    const { page, proxy, cluster } = await startRig(t);

    await t.test('killing the leader with its button: another replica becomes leader', async (t) => {
      const card = await page.waitForSelector(leaderCard);
      const leader = await card.getAttribute('data-replica');
      t.ok(leader, `leader card shown: ${leader}`);
      await page.click(`.card[data-replica="${leader}"] button[data-action="kill"]`);
      await page.waitForSelector(`.card[data-replica="${leader}"][data-process="killed"]`);
      const next = await page.waitForSelector(`${leaderCard}:not([data-replica="${leader}"])`);
      t.not(await next.getAttribute('data-replica'), leader, 'a new leader card');
      t.match(await page.textContent('#events'), new RegExp(`${leader} killed`), 'the kill is on the timeline');
    });

    await t.test('without --lazyfs the power buttons are disabled and say why', async (t) => {
      const power = await page.waitForSelector('.card button[data-action="power-off"]');
      t.ok(await power.isDisabled(), 'power off is disabled');
      t.match(await power.getAttribute('title'), /--lazyfs/, 'its tooltip names --lazyfs');
      t.ok(await page.isDisabled('#power-failure'), 'so is the whole-cluster power failure');
    });

    await t.test('partitioning a link draws it cut, healing draws it whole', async (t) => {
      await page.click('button[data-link="n2-n3"][data-action="partition"]');
      await page.waitForSelector('#graph g.link[data-link="n2-n3"][data-state="cut"]', { state: 'attached' });
      t.equal(proxy.link('n2', 'n3').mode, 'blackhole');
      t.equal(proxy.link('n3', 'n2').mode, 'blackhole');
      t.ok(await page.isVisible('#graph g.link[data-link="n2-n3"] .cut-mark'), 'the cut is marked');
      await page.click('button[data-link="n2-n3"][data-action="heal"]');
      await page.waitForSelector('#graph g.link[data-link="n2-n3"][data-state="ok"]', { state: 'attached' });
      t.equal(proxy.link('n2', 'n3').mode, 'pass');
    });

    await t.test("a replica's event-loop delay is drawn on its card, and a 300 ms stall is marked", async (t) => {
      const replica = cluster.replicas.find((r) => r.state === 'up')!;
      const card = `.card[data-replica="${replica.id}"]`;
      await page.waitForSelector(`${card} .lag:not([hidden]) canvas.lag-spark`);
      t.match(await page.textContent(`${card} .lag-text`), /^event loop p99 [\d.]+ · max [\d.]+ ms$/, 'p99 and max of the last second');
      const res = await fetch(replica.httpUrl + '/admin/debug/block-event-loop', { method: 'POST', headers: { 'content-type': 'application/json', ...cluster.adminHeaders }, body: '{"ms":300}' });
      t.equal(res.status, 200, `blocked ${replica.id} for 300 ms (--debug-api)`);
      // At least 250 ms (the bucket bound below 300): a loaded machine's own stalls are shorter.
      const sel = JSON.stringify(`${card} .lag[data-stall="true"] .stall-mark`);
      const mark = await page.waitForFunction(`(() => {
        const m = /^stall >?(\\d+) ms, \\d+ s ago$/.exec(document.querySelector(${sel})?.textContent ?? '');
        return m !== null && Number(m[1]) >= 250 ? m[0] : null;
      })()`);
      t.ok(await mark.jsonValue(), `the stall is marked on the card: ${await mark.jsonValue()}`);
      t.ok(await page.isVisible(`${card} .stall-mark`), 'visibly');
      t.match(await page.textContent('#events'), new RegExp(`${replica.id}: event loop stalled`), 'and on the timeline');
    });
  });
}
