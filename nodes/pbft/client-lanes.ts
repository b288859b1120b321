import { randomBytes } from 'node:crypto';
import type { SessionTag } from '../../protocols/kv/commands.js';

/** One PBFT client identity the gateway uses, with its last timestamp. */
export interface Lane {
  clientId: string;
  seq: number;
}

/**
 * PBFT clients (Castro and Liskov §4.1) have at most one request outstanding, and a replica
 * executes a client's requests in timestamp order, answering a stale timestamp from its reply
 * cache. A gateway serving many HTTP requests without x-client-id therefore acts as a pool of
 * such clients ("lanes"): each request takes a free lane and the lane's next timestamp, and gives
 * the lane back when answered. A lane whose request timed out is retired rather than reused, so
 * its late execution can never be confused with a newer request.
 *
 * Lane ids carry this process's boot nonce: a restarted gateway never reuses an old lane's
 * (clientId, seq) pairs, which the replicated session table would answer from its cache.
 */
export class ClientLanes {
  private readonly free: Lane[] = [];
  private count = 0;
  private readonly prefix: string;

  constructor(replicaId: string) {
    this.prefix = `~gw/${replicaId}/${randomBytes(6).toString('hex')}/`;
  }

  /** Lanes ever created (a lane whose request timed out is dropped, never released). */
  get created(): number {
    return this.count;
  }

  acquire(): SessionTag & { lane: Lane } {
    const lane = this.free.pop() ?? { clientId: this.prefix + String(this.count++), seq: 0 };
    lane.seq += 1;
    return { clientId: lane.clientId, seq: lane.seq, lane };
  }

  release(lane: Lane): void {
    this.free.push(lane);
  }
}

/** Timestamps for read-only requests (§5.1.3): never executed, so one client id suffices. */
export class ReadOnlyTags {
  private seq = 0;
  readonly clientId: string;

  constructor(replicaId: string) {
    this.clientId = `~ro/${replicaId}/${randomBytes(6).toString('hex')}`;
  }

  next(): SessionTag {
    return { clientId: this.clientId, seq: ++this.seq };
  }
}
