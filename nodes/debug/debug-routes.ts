import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../http/errors.js';
import type { DebugSource } from './debug-source.js';
import type { MessageTap } from './message-tap.js';

/** What `--debug-api` turns on (nodes/main.ts); without it none of these routes exist. */
export interface DebugApi {
  /** Null when the runtime does not implement DebugSource (yet). */
  source: DebugSource | null;
  tap: MessageTap | null;
}

const messagesQuery = {
  type: 'object',
  properties: { since: { type: 'string', pattern: '^[0-9]{1,15}$' }, limit: { type: 'string', pattern: '^[0-9]{1,5}$' } },
  additionalProperties: false,
} as const;

/**
 * The replica's debug API, read by the dashboard (harness/dashboard/):
 * `GET /admin/debug/state` (debug-state.ts) and `GET /admin/debug/messages?since=N` (message-tap.ts).
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
}
