import type { FastifyInstance } from 'fastify';
import type { KvOperation } from '../../protocols/kv/commands.js';
import { ServiceError } from '../http/errors.js';
import { defaultHttpLimits, type HttpLimits } from '../http/limits.js';
import { isKvOperation } from './message-guard.js';
import type { PbftKvService } from './pbft-kv-service.js';

export interface PbftRoutesOptions {
  service: PbftKvService;
  limits?: Partial<HttpLimits>;
}

const tagProperties = {
  clientId: { type: 'string', minLength: 1, maxLength: 256 },
  seq: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
} as const;

const requestBody = {
  type: 'object',
  required: ['clientId', 'seq', 'operation'],
  properties: {
    ...tagProperties,
    operation: {
      type: 'object',
      required: ['op', 'key'],
      properties: {
        op: { type: 'string', enum: ['put', 'delete', 'cas', 'get'] },
        key: { type: 'string', minLength: 1 },
        value: { type: 'string' },
        expected: { type: ['string', 'null'] },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

const readBody = {
  type: 'object',
  required: ['clientId', 'seq', 'key'],
  properties: { ...tagProperties, key: { type: 'string', minLength: 1 } },
  additionalProperties: false,
} as const;

interface RequestBody {
  clientId: string;
  seq: number;
  operation: KvOperation;
}

interface ReadBody {
  clientId: string;
  seq: number;
  key: string;
}

/**
 * The routes a PBFT library client (nodes/pbft/pbft-client.ts) talks to, registered only on PBFT
 * replicas. Unlike the gateway API, each answers with THIS replica's own result, and the client
 * gathers f+1 (ordered) or 2f+1 (read-only) matching answers itself (OSDI §4.1, §5.1.3):
 *
 * - `POST /pbft/request {clientId, seq, operation}`: submitted with origin -1; answered once this
 *   replica executed it: `{replica, index, sequence, result}`.
 * - `POST /pbft/read {clientId, seq, key}`: the read-only optimisation, answered from this
 *   replica's state: `{replica, index, result}`.
 */
export async function pbftRoutes(app: FastifyInstance, options: PbftRoutesOptions): Promise<void> {
  const limits: HttpLimits = { ...defaultHttpLimits, ...options.limits };
  const { service } = options;
  const checkKey = (key: string): void => {
    if (Buffer.byteLength(key) > limits.keyBytesMax) throw new ServiceError('PAYLOAD_TOO_LARGE', `keys are at most ${limits.keyBytesMax} bytes`);
  };
  const checkOperation = (op: KvOperation): void => {
    if (!isKvOperation(op)) throw new ServiceError('BAD_REQUEST', 'operation must be put {key, value}, delete {key}, cas {key, expected, value} or get {key}');
    checkKey(op.key);
    if ((op.op === 'put' || op.op === 'cas') && Buffer.byteLength(op.value) > limits.valueBytesMax) {
      throw new ServiceError('PAYLOAD_TOO_LARGE', `values are at most ${limits.valueBytesMax} bytes`);
    }
  };

  app.post<{ Body: RequestBody }>('/pbft/request', { schema: { body: requestBody } }, async (request) => {
    const { clientId, seq, operation } = request.body;
    checkOperation(operation);
    const { result, sequence } = await service.ownExecution({ clientId, seq }, operation);
    return { replica: service.id, index: service.index, sequence, result };
  });

  app.post<{ Body: ReadBody }>('/pbft/read', { schema: { body: readBody } }, async (request) => {
    const { clientId, seq, key } = request.body;
    checkKey(key);
    const { result } = await service.ownReadOnly({ clientId, seq }, key);
    return { replica: service.id, index: service.index, result };
  });
}
