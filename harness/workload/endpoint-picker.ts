/**
 * Which replica a client sends its next operation to.
 *
 * - `random` (the default): a random replica for every operation. Under a minority partition a
 *   third of the operations of a 3-replica cluster go to the cut-off replica and wait out the
 *   client timeout, so the clients' throughput mostly measures the clients.
 * - `failover` (`--client-failover`): as etcd's client balancer does, a client pins one replica
 *   and keeps using it while it answers; after a timeout, a refused connection or 503 NO_LEADER it
 *   gray-lists that replica for a while and pins another (etcd client design,
 *   https://etcd.io/docs/v3.3/learning/client-architecture/, "clientv3-grpc1.7 balancer": it
 *   "pins" an endpoint and, on failure, marks it unhealthy for the time being and switches;
 *   etcd-io/etcd#8669 gray-lists an endpoint on request errors so that a partitioned member is
 *   left at once). The operation that failed is not retried: it is already in the history (as
 *   `fail` or `info`), and the client's next operation goes to the new replica.
 */
import type { Rng } from '../../protocols/common/rng.js';

export interface Endpoint {
  id: string;
  url: string;
}

export interface EndpointPicker {
  pick(endpoints: readonly Endpoint[], nowMs: number): Endpoint;
  /** The replica `id` timed out, refused the connection or had no leader. */
  failed(id: string, nowMs: number): void;
}

export class RandomPicker implements EndpointPicker {
  constructor(private readonly rng: Rng) {}

  pick(endpoints: readonly Endpoint[]): Endpoint {
    return endpoints[this.rng.int(endpoints.length)]!;
  }

  failed(): void {}
}

export class FailoverPicker implements EndpointPicker {
  private pinned: string | null = null;
  /** Replica → until when it is gray-listed (ms). */
  private readonly grayUntil = new Map<string, number>();

  constructor(
    private readonly rng: Rng,
    /** How long a replica that failed is avoided. */
    private readonly grayListMs: number,
  ) {}

  pick(endpoints: readonly Endpoint[], nowMs: number): Endpoint {
    const pinned = endpoints.find((e) => e.id === this.pinned);
    if (pinned !== undefined) return pinned;
    const healthy = endpoints.filter((e) => (this.grayUntil.get(e.id) ?? 0) <= nowMs);
    // Every replica failed lately: the one gray-listed longest ago.
    const next =
      healthy.length > 0
        ? healthy[this.rng.int(healthy.length)]!
        : [...endpoints].sort((a, b) => (this.grayUntil.get(a.id) ?? 0) - (this.grayUntil.get(b.id) ?? 0))[0]!;
    this.pinned = next.id;
    return next;
  }

  failed(id: string, nowMs: number): void {
    this.grayUntil.set(id, nowMs + this.grayListMs);
    if (this.pinned === id) this.pinned = null;
  }
}

/** Outcomes after which a failover client leaves the replica: timeout, refused, no leader. */
export function leavesReplica(error: string | undefined): boolean {
  return error === 'timeout' || error === 'ECONNREFUSED' || error?.startsWith('503') === true;
}
