import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from './errors.js';

export const FORWARDED_HEADER = 'x-forwarded-by';
const PASSED_HEADERS = ['content-type', 'x-client-id', 'x-request-seq', 'authorization'];

/**
 * Forward a client request to the leader's HTTP API and relay its answer (docs/design.md §4.3: any
 * replica accepts any request). A request is forwarded at most once: a replica that receives
 * a forwarded request and is not the leader either answers NO_LEADER, so two replicas with
 * different ideas of the leader cannot bounce a request between them.
 */
export async function forwardToLeader(
  request: FastifyRequest,
  reply: FastifyReply,
  leaderUrl: string,
  selfId: string,
  timeoutMs: number,
): Promise<FastifyReply> {
  const headers: Record<string, string> = { [FORWARDED_HEADER]: selfId };
  for (const name of PASSED_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(leaderUrl + request.url, {
      method: request.method,
      headers,
      body: request.body === undefined ? null : JSON.stringify(request.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // A request that never reached the leader is safe to retry (NO_LEADER); any other failure
    // may have happened after the leader applied it, so its outcome is unknown (TIMEOUT).
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') {
      throw new ServiceError('NO_LEADER', `cannot reach the leader at ${leaderUrl}`, {}, 1);
    }
    throw new ServiceError('TIMEOUT', `forwarding to the leader failed (${(err as Error).message}); the outcome is unknown`);
  }
  const text = await response.text();
  reply.code(response.status).header('content-type', response.headers.get('content-type') ?? 'application/json');
  const retryAfter = response.headers.get('retry-after');
  if (retryAfter !== null) reply.header('retry-after', retryAfter);
  return reply.send(text);
}
