/**
 * Admin routes (`/admin/*`: membership, leadership transfer, the debug API) change the cluster or
 * expose its insides, so a replica serves them only to a caller that proves it holds the cluster
 * secret. The proof is a bearer token derived from the secret (HMAC-SHA256 of a fixed label), so
 * everyone with the cluster file can make it and the secret itself never crosses the network:
 *
 *   Authorization: Bearer <adminToken(secret)>
 *
 * A missing or wrong token is refused with 401 UNAUTHENTICATED before the route runs, and nothing
 * changes (docs/design.md §4.6). The key-value API, /status, /health and /metrics stay open.
 * `npm run admin-token -- --cluster data/raft/cluster.json` prints the token (nodes/http/admin-token-cli.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ServiceError } from './errors.js';

const LABEL = 'consensus-lab admin token v1';

/** The admin token of a cluster, from its secret. */
export function adminToken(secret: string): string {
  return createHmac('sha256', secret).update(LABEL).digest('base64url');
}

/** The header an admin call carries. */
export function adminHeaders(secret: string): { authorization: string } {
  return { authorization: `Bearer ${adminToken(secret)}` };
}

/** Refuses every `/admin/` request without the right token (an onRequest hook: before parsing the body). */
export function requireAdminToken(app: FastifyInstance, token: string): void {
  const expected = Buffer.from(token);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/admin/') && request.url !== '/admin') return;
    const given = bearer(request.headers.authorization);
    if (given === null) {
      throw new ServiceError('UNAUTHENTICATED', "admin routes need 'Authorization: Bearer <admin token>' (the token is derived from the cluster secret: npm run admin-token)");
    }
    const g = Buffer.from(given);
    if (g.length !== expected.length || !timingSafeEqual(g, expected)) throw new ServiceError('UNAUTHENTICATED', 'wrong admin token');
  });
}

function bearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m === null ? null : m[1]!;
}
