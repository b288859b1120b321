import type { KvResult } from '../../protocols/kv/commands.js';
import { ReplyQuorum } from '../../protocols/pbft/reply-quorum.js';

/**
 * The client's acceptance rule (OSDI §4.1: f+1 matching replies from distinct replicas; §5.1.3:
 * 2f+1 for read-only requests) over KvResults. The rule itself is the core's ReplyQuorum
 * (protocols/pbft/reply-quorum.ts), shared by the HTTP gateway and the PbftClient library; this
 * wrapper only maps the accepted result key back to a result.
 */
export class ResultQuorum {
  private readonly quorum: ReplyQuorum;
  private readonly results = new Map<string, KvResult>();

  constructor(
    private readonly n: number,
    f: number,
    needed: number,
  ) {
    this.quorum = new ReplyQuorum(f, needed);
  }

  /** Record replica `from`'s result; the accepted result once `needed` distinct replicas agree. */
  add(from: number, result: KvResult): KvResult | null {
    if (!Number.isInteger(from) || from < 0 || from >= this.n) return null;
    const key = ReplyQuorum.resultKey(result);
    if (!this.results.has(key)) this.results.set(key, result);
    const accepted = this.quorum.add(from, key);
    return accepted === null ? null : (this.results.get(accepted) ?? null);
  }

  /** No result can reach the quorum any more, even if every silent replica agreed with the largest group. */
  hopeless(): boolean {
    return this.quorum.hopeless(this.n);
  }
}
