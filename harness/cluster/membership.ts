/**
 * Membership changes of a running Raft cluster through its admin API (dissertation ch. 4):
 * `POST /admin/members` and `DELETE /admin/members/:id`, retried across leader changes until a
 * deadline. Used by Cluster.addReplica/removeReplica, the cluster console and the tests.
 */
import type { NodeSpec } from '../../nodes/config.js';
import { call, type KvResponse } from '../client/kv-client.js';

/** Answers worth retrying: no leader yet, busy with another change, learner not caught up yet. */
function retryable(res: KvResponse): boolean {
  return res.status === 503 || res.status === 504 || res.status === 429;
}

async function retry(urls: readonly string[], send: (url: string) => Promise<KvResponse>, what: string, timeoutMs: number): Promise<KvResponse> {
  const deadline = Date.now() + timeoutMs;
  let last: KvResponse | Error | null = null;
  for (let k = 0; ; k++) {
    const url = urls[k % urls.length] as string;
    try {
      const res = await send(url);
      if (res.status === 200) return res;
      if (!retryable(res)) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
      last = res;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(what)) throw err;
      last = err as Error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last?.body)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Adds `spec` as a learner, then (unless `learner`) waits for its promotion to voter. */
export function addMember(urls: readonly string[], admin: Record<string, string>, spec: NodeSpec, learner = false, timeoutMs = 60_000): Promise<KvResponse> {
  const body = { id: spec.id, host: spec.host, httpPort: spec.httpPort, peerPort: spec.peerPort, learner };
  return retry(urls, (url) => call(url, 'POST', '/admin/members', body, { timeoutMs: 15_000, headers: admin }), `add ${spec.id}`, timeoutMs);
}

/** `admin`: the admin call's headers (Cluster.adminHeaders, nodes/http/admin-auth.ts). */
export function removeMember(urls: readonly string[], admin: Record<string, string>, id: string, timeoutMs = 60_000): Promise<KvResponse> {
  return retry(urls, (url) => call(url, 'DELETE', `/admin/members/${encodeURIComponent(id)}`, undefined, { timeoutMs: 15_000, headers: admin }), `remove ${id}`, timeoutMs);
}
