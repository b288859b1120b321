import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyError } from 'fastify';
import type { KvCommand, KvOperation, KvResult, SessionTag } from '../../protocols/kv/commands.js';
import { NotLeaderError, ServiceError } from './errors.js';
import { FORWARDED_HEADER, forwardToLeader } from './forward.js';
import type { KvService } from './kv-service.js';
import { defaultHttpLimits, type HttpLimits } from './limits.js';
import { registerMemberRoutes } from './member-routes.js';
import { registerDebugRoutes, type DebugApi } from '../debug/debug-routes.js';
import { ReplicaMetrics } from '../metrics.js';
import { addHttpMetrics } from './http-metrics.js';
import { requireAdminToken } from './admin-auth.js';

export interface AppOptions {
  service: KvService;
  /** The token every `/admin/` request must carry (admin-auth.ts; adminToken(cluster secret)). */
  adminToken: string;
  limits?: Partial<HttpLimits>;
  /** `--debug-api`: GET /admin/debug/state and /admin/debug/messages (nodes/debug/); absent: no such routes. */
  debug?: DebugApi;
  /**
   * The process's registry (nodes/metrics.ts), where the replica registered its metrics; GET
   * /metrics renders it. Absent (tests): a registry of this app's own HTTP metrics only.
   */
  metrics?: ReplicaMetrics;
}

type KeyParams = { key: string };
type ReadQuery = { consistency?: 'linearizable' | 'stale' | 'lease' };

const keyParams = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string', minLength: 1 } },
} as const;

const putBody = {
  type: 'object',
  required: ['value'],
  properties: { value: { type: 'string' } },
} as const;

const casBody = {
  type: 'object',
  required: ['expected', 'value'],
  properties: { expected: { type: ['string', 'null'] }, value: { type: 'string' } },
} as const;

const readQuery = {
  type: 'object',
  properties: { consistency: { type: 'string', enum: ['linearizable', 'stale', 'lease'] } },
  additionalProperties: false,
} as const;

/**
 * The client HTTP API of docs/design.md §4, the same for every protocol. Only the process entry
 * point calls `listen`; tests use `app.inject()`.
 */
export function build(options: AppOptions): FastifyInstance {
  const limits: HttpLimits = { ...defaultHttpLimits, ...options.limits };
  const { service } = options;
  const metrics = options.metrics ?? new ReplicaMetrics({ id: service.id, protocol: service.protocol });
  const app = Fastify({
    logger: false,
    bodyLimit: limits.bodyBytesMax,
    routerOptions: { maxParamLength: limits.keyBytesMax * 3 + 16 },
    // A value of 5 is not the string "5": refuse rather than coerce.
    ajv: { customOptions: { coerceTypes: false } },
  });

  // curl sends form content types by default; every body here is JSON whatever it says.
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ServiceError('BAD_REQUEST', 'the request body is not valid JSON'), undefined);
    }
  });

  requireAdminToken(app, options.adminToken);
  app.setErrorHandler((error: FastifyError | ServiceError, _request, reply) => sendError(reply, toServiceError(error)));
  app.setNotFoundHandler((request, reply) => {
    const tooLong = request.url.startsWith('/kv/') && request.url.length > limits.keyBytesMax * 3;
    return sendError(
      reply,
      tooLong
        ? new ServiceError('PAYLOAD_TOO_LARGE', `keys are at most ${limits.keyBytesMax} bytes`)
        : new ServiceError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
    );
  });

  const checkKey = (key: string): void => {
    if (Buffer.byteLength(key) > limits.keyBytesMax) {
      throw new ServiceError('PAYLOAD_TOO_LARGE', `keys are at most ${limits.keyBytesMax} bytes`);
    }
  };
  const checkValue = (value: string): void => {
    if (Buffer.byteLength(value) > limits.valueBytesMax) {
      throw new ServiceError('PAYLOAD_TOO_LARGE', `values are at most ${limits.valueBytesMax} bytes`);
    }
  };

  /**
   * Run `local` on this replica; while it has no leader to serve or forward the request (it throws
   * NotLeaderError), wait for one and try again, up to leaderWaitMs, then answer NO_LEADER. Key-value
   * requests are forwarded by the replica itself, over the replica transport (nodes/forwarding);
   * with `http`, the admin requests only the leader serves are forwarded to its HTTP API instead.
   */
  const viaLeader = async <T>(request: FastifyRequest, reply: FastifyReply, local: () => Promise<T>, http = true): Promise<T | FastifyReply> => {
    const deadline = Date.now() + limits.leaderWaitMs;
    for (;;) {
      try {
        return await local();
      } catch (err) {
        if (!(err instanceof NotLeaderError)) throw err;
        const leader = err.leader ?? service.leader();
        const url = !http || leader === null || leader === service.id ? null : service.httpUrlOf(leader);
        if (url !== null && request.headers[FORWARDED_HEADER] === undefined) {
          return forwardToLeader(request, reply, url, service.id, limits.forwardTimeoutMs);
        }
        if (Date.now() >= deadline || request.headers[FORWARDED_HEADER] !== undefined) {
          throw new ServiceError('NO_LEADER', 'no leader is available; retry shortly', { leader }, 1);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  };

  const execute = async (request: FastifyRequest, reply: FastifyReply, operation: KvOperation) => {
    const command: KvCommand = { operation, session: sessionOf(request) };
    const result = await viaLeader(request, reply, () => service.execute(command), false);
    return isReply(result) ? result : sendResult(reply, operation, result);
  };

  app.put<{ Params: KeyParams; Body: { value: string } }>(
    '/kv/:key',
    { schema: { params: keyParams, body: putBody } },
    async (request, reply) => {
      const { key } = request.params;
      checkKey(key);
      checkValue(request.body.value);
      return execute(request, reply, { op: 'put', key, value: request.body.value });
    },
  );

  app.delete<{ Params: KeyParams }>('/kv/:key', { schema: { params: keyParams } }, async (request, reply) => {
    checkKey(request.params.key);
    return execute(request, reply, { op: 'delete', key: request.params.key });
  });

  app.post<{ Params: KeyParams; Body: { expected: string | null; value: string } }>(
    '/kv/:key/cas',
    { schema: { params: keyParams, body: casBody } },
    async (request, reply) => {
      const { key } = request.params;
      const { expected, value } = request.body;
      checkKey(key);
      checkValue(value);
      return execute(request, reply, { op: 'cas', key, expected, value });
    },
  );

  app.get<{ Params: KeyParams; Querystring: ReadQuery }>(
    '/kv/:key',
    { schema: { params: keyParams, querystring: readQuery } },
    async (request, reply) => {
      const { key } = request.params;
      checkKey(key);
      const value = await read(request, reply, key, request.query.consistency ?? 'linearizable');
      if (isReply(value)) return value;
      if (value === null) throw new ServiceError('KEY_NOT_FOUND', `no key ${JSON.stringify(key)}`, { key });
      return { key, value };
    },
  );

  addHttpMetrics(app, metrics);

  const read = async (request: FastifyRequest, reply: FastifyReply, key: string, consistency: string) => {
    if (consistency === 'stale') return service.readStale(key);
    if (consistency === 'lease') {
      const { readLease } = service;
      if (readLease === undefined) throw new ServiceError('BAD_REQUEST', `${service.protocol} has no lease reads`);
      return viaLeader(request, reply, () => readLease.call(service, key), false);
    }
    return viaLeader(request, reply, () => service.readLinearizable(key), false);
  };

  app.post<{ Body: { target?: string | null } | undefined }>(
    '/admin/transfer-leadership',
    { schema: { body: { type: ['object', 'null'], properties: { target: { type: ['string', 'null'] } }, additionalProperties: false } } },
    async (request, reply) => {
      const { transferLeadership } = service;
      if (transferLeadership === undefined) throw new ServiceError('BAD_REQUEST', `${service.protocol} has no leadership transfer`);
      const target = request.body?.target ?? null;
      const result = await viaLeader(request, reply, () => transferLeadership.call(service, target));
      return isReply(result) ? result : { ok: true, leader: result.leader };
    },
  );

  registerMemberRoutes(app, service, viaLeader);
  if (options.debug !== undefined) registerDebugRoutes(app, options.debug);
  app.get('/status', async () => service.status());
  app.get('/metrics', async (_request, reply) => reply.header('content-type', metrics.contentType).send(await metrics.render()));
  app.get('/health', async (_request, reply) =>
    service.healthy() ? { ok: true } : sendError(reply, new ServiceError('NO_LEADER', 'recovering', {}, 1)),
  );
  return app;
}

function isReply(value: unknown): value is FastifyReply {
  return typeof value === 'object' && value !== null && 'sent' in value && 'raw' in value;
}

/** `x-client-id` / `x-request-seq` make a write exactly-once (Raft dissertation §6.3). */
function sessionOf(request: FastifyRequest): SessionTag | null {
  const clientId = request.headers['x-client-id'];
  const seqText = request.headers['x-request-seq'];
  if (clientId === undefined && seqText === undefined) return null;
  if (typeof clientId !== 'string' || typeof seqText !== 'string' || clientId.length === 0 || clientId.length > 256) {
    throw new ServiceError('BAD_REQUEST', 'x-client-id and x-request-seq must be sent together');
  }
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new ServiceError('BAD_REQUEST', 'x-request-seq must be a positive integer');
  }
  return { clientId, seq };
}

function sendResult(reply: FastifyReply, operation: KvOperation, result: KvResult): FastifyReply {
  switch (result.kind) {
    case 'put':
      return reply.send({ ok: true });
    case 'delete':
      return reply.send({ ok: true, existed: result.existed });
    case 'cas':
      if (result.ok) return reply.send({ ok: true });
      throw new ServiceError('CAS_MISMATCH', 'the current value is not the expected one', {
        key: operation.key,
        current: result.current,
      });
    case 'get':
      if (result.value === null) throw new ServiceError('KEY_NOT_FOUND', `no key ${JSON.stringify(operation.key)}`);
      return reply.send({ key: operation.key, value: result.value });
    case 'session-expired':
      throw new ServiceError('BAD_REQUEST', 'x-request-seq is older than the session keeps; its outcome is unknown');
  }
}

function toServiceError(error: FastifyError | ServiceError): ServiceError {
  if (error instanceof ServiceError) return error;
  if (error.validation !== undefined) return new ServiceError('BAD_REQUEST', error.message);
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ServiceError('PAYLOAD_TOO_LARGE', error.message);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ServiceError('BAD_REQUEST', error.message);
  }
  return new ServiceError('INTERNAL', error.message);
}

function sendError(reply: FastifyReply, error: ServiceError): FastifyReply {
  if (error.retryAfterS !== null) reply.header('retry-after', String(error.retryAfterS));
  return reply.code(error.status).send(error.body());
}
