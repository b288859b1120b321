/**
 * The dashboard (issue 8): a fastify server inside the process that launched the cluster. It
 * polls the replicas' debug API and, once a second, their /metrics for the event-loop delay
 * (cluster-watcher.ts, replica-poller.ts), pushes snapshots, timeline events and
 * sampled messages to browsers as server-sent events, runs the buttons through the harness's
 * Cluster and FaultProxy (cluster-actions.ts), proxies the put/get/cas panel, runs the heavy-load
 * toggle, and serves chaos runs from store/ for replay. Only `startDashboard` listens; tests use
 * `buildDashboard` and `app.inject()`.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kv, type KvResponse } from '../client/kv-client.js';
import { ActionError, linkAction, powerFailureAction, replicaAction, replicaActions, splitAction, splitNames, type ControlledCluster, type LinkControl, type ReplicaAction, type SplitName } from './cluster-actions.js';
import { ClusterWatcher, type WatchUpdate } from './cluster-watcher.js';
import { LoadRunner } from './load-runner.js';
import { SseHub } from './sse-hub.js';
import { registerStaticFiles } from './static-files.js';
import { listRuns, loadRun } from './store-runs.js';

export const publicDir = join(dirname(fileURLToPath(import.meta.url)), 'public');

export interface DashboardOptions {
  protocol: string;
  cluster: ControlledCluster;
  /** The fault proxy on the cluster's links; null: links are drawn but cannot be cut. */
  proxy: LinkControl | null;
  /** Where chaos runs are (`store/`). */
  storeDir: string;
  /** Where the replicas run, shown in the header: "loopback" (default) or e.g. "netns 10.X.Y.0/24". */
  hosts?: string;
  pollMs?: number;
}

export interface Dashboard {
  app: FastifyInstance;
  watcher: ClusterWatcher;
  load: LoadRunner;
  /** Stop polling, the load, every stream, and the server. */
  close(): Promise<void>;
}

export async function buildDashboard(o: DashboardOptions): Promise<Dashboard> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const hub = new SseHub();
  const upUrls = () => o.cluster.replicas.filter((r) => r.state === 'up').map((r) => r.httpUrl);
  const load = new LoadRunner({ urls: upUrls });
  const watcher = new ClusterWatcher({
    protocol: o.protocol,
    cluster: o.cluster,
    proxy: o.proxy,
    ...(o.hosts === undefined ? {} : { hosts: o.hosts }),
    load: () => load.view(),
    onUpdate: (u) => push(hub, u),
    ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
  });
  await registerStaticFiles(app, publicDir);
  registerStream(app, hub, watcher);
  registerControls(app, o, watcher);
  registerKv(app, o.cluster);
  registerLoad(app, load, watcher);
  registerReplay(app, o.storeDir);
  app.addHook('preClose', async () => hub.closeAll());
  watcher.start();
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await watcher.stop();
      await load.stop();
      await app.close();
    })());
  return { app, watcher, load, close };
}

/** Listen (127.0.0.1:7000 unless told otherwise) and return the dashboard's URL. */
export async function startDashboard(o: DashboardOptions & { host?: string; port?: number }): Promise<Dashboard & { url: string }> {
  const d = await buildDashboard(o);
  try {
    const host = o.host ?? '127.0.0.1';
    await d.app.listen({ host, port: o.port ?? 7000 });
    const address = d.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : o.port;
    return { ...d, url: `http://${host}:${port}/` };
  } catch (err) {
    await d.close();
    throw err;
  }
}

function push(hub: SseHub, u: WatchUpdate): void {
  hub.broadcast('snapshot', u.snapshot);
  if (u.events.length > 0) hub.broadcast('events', u.events);
  if (u.messages.length > 0) hub.broadcast('messages', u.messages);
}

function registerStream(app: FastifyInstance, hub: SseHub, watcher: ClusterWatcher): void {
  app.get('/api/state', async () => ({ snapshot: watcher.latest, events: watcher.events }));
  app.get('/api/stream', (request, reply) => {
    reply.hijack();
    const first = [{ event: 'events', data: watcher.events }];
    if (watcher.latest !== null) first.unshift({ event: 'snapshot', data: watcher.latest as never });
    hub.add(reply.raw, first);
    request.raw.on('close', () => reply.raw.end());
  });
}

function registerControls(app: FastifyInstance, o: DashboardOptions, watcher: ClusterWatcher): void {
  app.post<{ Params: { id: string; action: string } }>('/api/replicas/:id/:action', async (request, reply) => {
    const { id, action } = request.params;
    if (!(replicaActions as readonly string[]).includes(action)) return fail(reply, 400, `unknown action ${action}`);
    return act(reply, watcher, async () => {
      const done = await replicaAction(o.cluster, id, action as ReplicaAction);
      if (action === 'power-off') watcher.note('fault', done);
      return done;
    });
  });
  app.post('/api/power-failure', async (_request, reply) =>
    act(reply, watcher, async () => {
      const done = await powerFailureAction(o.cluster);
      watcher.note('fault', done);
      return done;
    }),
  );
  app.post<{ Params: { a: string; b: string; action: string } }>('/api/links/:a/:b/:action', async (request, reply) => {
    const { a, b, action } = request.params;
    if (o.proxy === null) return fail(reply, 409, 'this cluster runs without the fault proxy');
    if (action !== 'partition' && action !== 'heal') return fail(reply, 400, `unknown action ${action}`);
    const proxy = o.proxy;
    return act(reply, watcher, async () => linkAction(proxy, a, b, action));
  });
  app.post<{ Params: { name: string } }>('/api/splits/:name', async (request, reply) => {
    const { name } = request.params;
    if (o.proxy === null) return fail(reply, 409, 'this cluster runs without the fault proxy');
    if (!(splitNames as readonly string[]).includes(name)) return fail(reply, 400, `unknown split ${name}`);
    const proxy = o.proxy;
    return act(reply, watcher, async () => {
      const text = await splitAction(proxy, name as SplitName, watcher.latest?.leader ?? null);
      watcher.note(name === 'heal-all' ? 'heal' : 'fault', text);
      return text;
    });
  });
}

async function act(reply: FastifyReply, watcher: ClusterWatcher, fn: () => Promise<string>): Promise<unknown> {
  try {
    const done = await fn();
    watcher.pollSoon();
    return { ok: true, done };
  } catch (err) {
    watcher.pollSoon();
    return fail(reply, err instanceof ActionError ? 409 : 500, (err as Error).message);
  }
}

function fail(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ ok: false, error: message });
}

interface KvRequest {
  op: 'put' | 'get' | 'cas' | 'delete';
  key: string;
  value?: string;
  expected?: string | null;
  node?: string;
}

const kvBody = {
  type: 'object',
  required: ['op', 'key'],
  properties: {
    op: { enum: ['put', 'get', 'cas', 'delete'] },
    key: { type: 'string', minLength: 1, maxLength: 1024 },
    value: { type: 'string' },
    expected: { type: ['string', 'null'] },
    node: { type: 'string' },
  },
} as const;

/** The put/get/cas panel, through any running replica (replicas send no CORS headers). */
function registerKv(app: FastifyInstance, cluster: ControlledCluster): void {
  app.post<{ Body: KvRequest }>('/api/kv', { schema: { body: kvBody } }, async (request, reply) => {
    const b = request.body;
    const up = cluster.replicas.filter((r) => r.state === 'up' && (b.node === undefined || b.node === '' || r.id === b.node));
    const target = up[Math.floor(Math.random() * up.length)];
    if (target === undefined) return fail(reply, 409, b.node ? `${b.node} is not up` : 'no replica is up');
    const started = performance.now();
    const res: KvResponse = await kvCall(target.httpUrl, b).catch((err: Error) => ({ status: 0, body: { error: err.message } }));
    return { ok: res.status >= 200 && res.status < 300, node: target.id, status: res.status, body: res.body, ms: performance.now() - started };
  });
}

function kvCall(url: string, b: KvRequest): Promise<KvResponse> {
  const opts = { timeoutMs: 6000 };
  switch (b.op) {
    case 'put':
      return kv.put(url, b.key, b.value ?? '', opts);
    case 'get':
      return kv.get(url, b.key, 'linearizable', opts);
    case 'cas':
      return kv.cas(url, b.key, b.expected ?? null, b.value ?? '', opts);
    case 'delete':
      return kv.del(url, b.key, opts);
  }
}

function registerLoad(app: FastifyInstance, load: LoadRunner, watcher: ClusterWatcher): void {
  app.post<{ Body: { on: boolean } }>('/api/load', { schema: { body: { type: 'object', required: ['on'], properties: { on: { type: 'boolean' } } } } }, async (request) => {
    if (request.body.on) load.start();
    else await load.stop();
    watcher.note('info', request.body.on ? 'heavy load on' : 'heavy load off');
    return { ok: true, running: load.view().running };
  });
}

function registerReplay(app: FastifyInstance, storeDir: string): void {
  app.get('/api/runs', async () => ({ runs: await listRuns(storeDir) }));
  app.get<{ Params: { name: string } }>('/api/runs/:name', async (request, reply) => {
    try {
      return await loadRun(storeDir, request.params.name);
    } catch (err) {
      return fail(reply, 404, (err as Error).message);
    }
  });
}
