/**
 * Reads every replica's final local state once the cluster has converged, for the
 * no-lost-writes checker: a barrier write commits through the current leader (so every entry
 * of earlier terms is committed or gone, Raft §5.4.2), every replica applies up to the highest
 * commitIndex, then each replica is read with `?consistency=stale`, retrying until all agree
 * or the deadline passes.
 */
import { kv } from '../client/kv-client.js';
import type { FinalValues } from './lost-writes.js';

export interface ReplicaEndpoint {
  id: string;
  url: string;
}

export const BARRIER_KEY = '__chaos_barrier';

export async function readFinalValues(replicas: readonly ReplicaEndpoint[], keys: readonly string[], timeoutMs = 20_000): Promise<FinalValues & { notes: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const notes: string[] = [];
  const barrier = await barrierWrite(replicas, deadline);
  if (!barrier) notes.push('the barrier write did not commit before the deadline');
  await waitApplied(replicas, deadline, notes);
  let last: Record<string, Record<string, string | null>> = {};
  for (;;) {
    last = await readAll(replicas, keys);
    const agree = keys.every((k) => new Set(Object.values(last[k] ?? {})).size <= 1 && Object.keys(last[k] ?? {}).length === replicas.length);
    if (agree) return { byKey: last, converged: true, notes };
    if (Date.now() > deadline) {
      notes.push('replicas still disagreed (or did not answer) at the deadline');
      return { byKey: last, converged: false, notes };
    }
    await sleep(200);
  }
}

async function barrierWrite(replicas: readonly ReplicaEndpoint[], deadline: number): Promise<boolean> {
  for (let i = 0; Date.now() < deadline; i++) {
    const r = replicas[i % replicas.length]!;
    try {
      const res = await kv.put(r.url, BARRIER_KEY, String(Date.now()), { timeoutMs: 3000 });
      if (res.status === 200) return true;
    } catch {
      // try the next replica
    }
    await sleep(100);
  }
  return false;
}

async function waitApplied(replicas: readonly ReplicaEndpoint[], deadline: number, notes: string[]): Promise<void> {
  for (;;) {
    const statuses = await Promise.all(replicas.map((r) => status(r.url)));
    const commit = Math.max(0, ...statuses.map((s) => Number(s?.['commitIndex'] ?? 0)));
    if (statuses.every((s) => s !== null && Number(s['appliedIndex'] ?? -1) >= commit)) return;
    if (Date.now() > deadline) {
      notes.push(`not every replica applied up to commitIndex ${commit} before the deadline`);
      return;
    }
    await sleep(100);
  }
}

async function readAll(replicas: readonly ReplicaEndpoint[], keys: readonly string[]): Promise<Record<string, Record<string, string | null>>> {
  const out: Record<string, Record<string, string | null>> = {};
  for (const k of keys) out[k] = {};
  await Promise.all(
    replicas.map(async (r) => {
      for (const k of keys) {
        try {
          const res = await kv.get(r.url, k, 'stale', { timeoutMs: 2000 });
          if (res.status === 200) out[k]![r.id] = String(res.body['value']);
          else if (res.status === 404) out[k]![r.id] = null;
        } catch {
          // unanswered: left out, so the replicas do not count as agreeing
        }
      }
    }),
  );
  return out;
}

async function status(url: string): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(url + '/status', { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
