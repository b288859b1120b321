/**
 * The safety properties the PBFT simulation checks after every step (OSDI §4.5.1 "safety"):
 *
 * - agreement: no two correct replicas execute different batches at one sequence number;
 * - one vote: a correct replica never sends two PrePrepares, Prepares or Commits with different
 *   digests for one (v, n), even across a crash and restart;
 * - equal state: correct replicas' checkpoint digests at one sequence number are equal;
 * - client safety: a client never accepts a result that correct replicas did not produce: an
 *   ordered result (f+1 matching) was produced by a correct replica and no correct replica
 *   produced another; a read-only result (2f+1 matching) was produced by f+1 correct replicas.
 *
 * Only correct replicas are observed; Byzantine ones may claim anything.
 */
import { canonicalResultKey } from '../canonical.js';
import type { ClientRequest } from '../types.js';
import type { KvResult } from '../../kv/commands.js';

export type Fail = (message: string) => never;

const opKey = (clientId: string, seq: number): string => `${clientId}#${seq}`;

export class PbftSafetyChecker {
  private readonly executedAt = new Map<number, { digest: string; replica: number }>();
  private readonly checkpointAt = new Map<number, { digest: string; replica: number }>();
  /** (client, seq) -> result key -> correct replicas that produced it (ordered path). */
  private readonly ordered = new Map<string, Map<string, Set<number>>>();
  private readonly reads = new Map<string, Map<string, Set<number>>>();
  /** `${type}/${replica}/${v}/${n}` -> digest: what each correct replica voted for. */
  private readonly votes = new Map<string, string>();
  executions = 0;
  checkpoints = 0;

  constructor(
    private readonly f: number,
    private readonly fail: Fail,
  ) {}

  /** Agreement (OSDI §4.5.1): correct replicas execute the same batch at n. */
  observeExecuted(replica: number, n: number, digest: string): void {
    this.executions++;
    const known = this.executedAt.get(n);
    if (known === undefined) this.executedAt.set(n, { digest, replica });
    else if (known.digest !== digest) {
      this.fail(`agreement: replica ${replica} executed ${digest} at n=${n} where replica ${known.replica} executed ${known.digest}`);
    }
  }

  /**
   * A correct replica pre-prepares, prepares and commits at most one digest per (v, n) (OSDI §4.2:
   * "it has not accepted a pre-prepare message for view v and sequence number n containing a
   * different digest"), also across its crashes and restarts (its votes are persisted first).
   */
  observeVote(type: string, replica: number, view: number, n: number, digest: string): void {
    const key = `${type}/${replica}/${view}/${n}`;
    const known = this.votes.get(key);
    if (known === undefined) this.votes.set(key, digest);
    else if (known !== digest) this.fail(`one vote per (v, n): replica ${replica} sent ${type}s for ${known} and ${digest} at v=${view} n=${n}`);
  }

  /** Correct replicas' states are equal at every checkpoint (OSDI §4.3). */
  observeCheckpoint(replica: number, n: number, digest: string): void {
    this.checkpoints++;
    const known = this.checkpointAt.get(n);
    if (known === undefined) this.checkpointAt.set(n, { digest, replica });
    else if (known.digest !== digest) {
      this.fail(`state: replica ${replica} has state ${digest} at checkpoint ${n}, replica ${known.replica} has ${known.digest}`);
    }
  }

  /** A correct replica produced `result` for a request on the ordered path. */
  observeResult(replica: number, request: ClientRequest, result: KvResult): void {
    record(this.ordered, opKey(request.clientId, request.seq), canonicalResultKey(result), replica);
  }

  /** A correct replica answered a read-only request with `result`. */
  observeRead(replica: number, clientId: string, seq: number, result: KvResult): void {
    record(this.reads, opKey(clientId, seq), canonicalResultKey(result), replica);
  }

  /** OSDI §4.1: f+1 matching replies: the result is one correct replicas produce. */
  checkAcceptedOrdered(clientId: string, seq: number, resultKey: string): void {
    const byResult = this.ordered.get(opKey(clientId, seq));
    const producers = byResult?.get(resultKey)?.size ?? 0;
    if (producers === 0) this.fail(`client ${clientId} accepted ${resultKey} for seq ${seq}, which no correct replica produced`);
    for (const [other, replicas] of byResult ?? []) {
      if (other !== resultKey && replicas.size > 0) {
        this.fail(`client ${clientId} accepted ${resultKey} for seq ${seq} but correct replicas produced ${other}`);
      }
    }
  }

  /** OSDI §5.1.3: 2f+1 matching read replies include f+1 from correct replicas. */
  checkAcceptedRead(clientId: string, seq: number, resultKey: string): void {
    const producers = this.reads.get(opKey(clientId, seq))?.get(resultKey)?.size ?? 0;
    if (producers < this.f + 1) {
      this.fail(`client ${clientId} accepted read ${resultKey} for seq ${seq}, produced by only ${producers} correct replicas`);
    }
  }
}

function record(map: Map<string, Map<string, Set<number>>>, op: string, result: string, replica: number): void {
  let byResult = map.get(op);
  if (byResult === undefined) {
    byResult = new Map();
    map.set(op, byResult);
  }
  let replicas = byResult.get(result);
  if (replicas === undefined) {
    replicas = new Set();
    byResult.set(result, replicas);
  }
  replicas.add(replica);
}
