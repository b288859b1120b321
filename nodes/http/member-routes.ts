/** The membership admin routes (Raft dissertation ch. 4); see members.ts. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from './errors.js';
import type { KvService } from './kv-service.js';
import { addMemberBody, type AddMemberBody, type MembershipService } from './members.js';

/** Runs `local` on the leader: here if this replica leads, else forwarded (app.ts). */
export type ViaLeader = <T>(request: FastifyRequest, reply: FastifyReply, local: () => Promise<T>) => Promise<T | FastifyReply>;

export function registerMemberRoutes(app: FastifyInstance, service: KvService, viaLeader: ViaLeader): void {
  const admin = (): MembershipService => {
    const { membership } = service;
    if (membership === undefined) throw new ServiceError('BAD_REQUEST', `${service.protocol} has no membership changes`);
    return membership;
  };

  // This replica's view of the configuration in force: no forwarding, so a learner or a removed
  // replica can be asked what it believes.
  app.get('/admin/members', async () => admin().members());

  app.post<{ Body: AddMemberBody }>('/admin/members', { schema: { body: addMemberBody } }, async (request, reply) => {
    const members = admin();
    const { id, host = '127.0.0.1', httpPort, peerPort, learner = false } = request.body;
    return viaLeader(request, reply, () => members.addMember({ id, host, httpPort, peerPort }, learner));
  });

  app.delete<{ Params: { id: string } }>(
    '/admin/members/:id',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } } },
    async (request, reply) => {
      const members = admin();
      return viaLeader(request, reply, () => members.removeMember(request.params.id));
    },
  );
}
