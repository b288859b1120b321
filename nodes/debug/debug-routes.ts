import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../http/errors.js';
import type { DebugSource } from './debug-source.js';
import type { MessageTap } from './message-tap.js';

/** What `--debug-api` turns on (nodes/main.ts); without it none of these routes exist. */
export interface DebugApi {
  /** Null when the runtime does not implement DebugSource (yet). */
  source: DebugSource | null;
  tap: MessageTap | null;
  /** Dial a peer at a fixed address from now on (TcpTransport.pinAddress); null: not supported. */
  pin?: ((id: string, addr: { host: string; port: number }) => void) | null;
}

const messagesQuery = {
  type: 'object',
  properties: { since: { type: 'string', pattern: '^[0-9]{1,15}$' }, limit: { type: 'string', pattern: '^[0-9]{1,5}$' } },
  additionalProperties: false,
} as const;

const pinParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
} as const;

const pinBody = {
  type: 'object',
  required: ['host', 'port'],
  properties: { host: { type: 'string', minLength: 1, maxLength: 255 }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
} as const;

const blockBody = {
  type: 'object',
  required: ['ms'],
  properties: { ms: { type: 'integer', minimum: 1, maximum: 5000 } },
  additionalProperties: false,
} as const;

/**
 * The replica's debug API, read by the dashboard (harness/dashboard/):
 * `GET /admin/debug/state` (debug-state.ts) and `GET /admin/debug/messages?since=N` (message-tap.ts);
 * `PUT /admin/debug/dial/:id` with `{host, port}`, with which the harness routes this replica's
 * link to a replica added later through its fault proxy (harness/cluster/cluster.ts); and
 * `POST /admin/debug/block-event-loop` with `{ms}` (1..5000), a deliberate stall, to see it in
 * consensus_event_loop_delay_seconds and on the dashboard.
 */
export function registerDebugRoutes(app: FastifyInstance, api: DebugApi): void {
  app.get('/admin/debug/state', async () => {
    if (api.source === null) throw new ServiceError('NOT_FOUND', 'this runtime has no debug state');
    return api.source.debugState();
  });
  app.get<{ Querystring: { since?: string; limit?: string } }>(
    '/admin/debug/messages',
    { schema: { querystring: messagesQuery } },
    async (request) => {
      if (api.tap === null) throw new ServiceError('NOT_FOUND', 'this replica samples no messages');
      const since = Number(request.query.since ?? 0);
      const limit = Math.min(1024, Math.max(1, Number(request.query.limit ?? 256)));
      return { id: api.tap.selfId, ...api.tap.since(since, limit) };
    },
  );
  app.put<{ Params: { id: string }; Body: { host: string; port: number } }>(
    '/admin/debug/dial/:id',
    { schema: { params: pinParams, body: pinBody } },
    async (request) => {
      if (api.pin === undefined || api.pin === null) throw new ServiceError('NOT_FOUND', 'this replica cannot pin peer addresses');
      const { id } = request.params;
      const { host, port } = request.body;
      try {
        api.pin(id, { host, port });
      } catch (err) {
        throw new ServiceError('BAD_REQUEST', (err as Error).message);
      }
      return { id, host, port };
    },
  );
  app.post<{ Body: { ms: number } }>('/admin/debug/block-event-loop', { schema: { body: blockBody } }, async (request) => ({
    blockedMs: blockEventLoop(request.body.ms),
  }));
}

/** Busy-wait: nothing else runs in this process meanwhile (timers, sockets, the protocol). */
function blockEventLoop(ms: number): number {
  const start = performance.now();
  while (performance.now() - start < ms) {
    // spin
  }
  return Math.round(performance.now() - start);
}
