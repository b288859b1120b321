/**
 * Flow control at the leader: a bound on the bytes of its log beyond commitIndex (etcd-io/raft's
 * `MaxUncommittedEntriesSize`). Without it a leader that cannot commit (its followers down or
 * slow, or replication slower than the offered load) keeps accepting proposals, its uncommitted
 * tail grows without limit, and once the cluster heals the followers must replicate all of it
 * before the next leader's no-op (Raft §8) can commit: recovery takes as long as the tail. With
 * the bound, a proposal that would go beyond it is refused (the runtime answers OVERLOADED), and
 * what a healed cluster must replicate before it commits again stays bounded.
 *
 * Counted: every entry beyond commitIndex in the leader's log, of any term (a new leader starts
 * from the tail it inherited), at `entryBytes` (log.ts). A proposal is always admitted when
 * nothing is uncommitted, so one entry larger than the bound can still be proposed; the no-op and
 * configuration entries are never refused, only counted.
 */
import { ENTRY_OVERHEAD_BYTES } from './log.js';

/** RaftConfig.maxUncommittedBytes when not set: 64 AppendEntries of 1 MiB in flight. */
export const DEFAULT_MAX_UNCOMMITTED_BYTES = 64 << 20;

export class UncommittedBudget {
  private bytes = 0;

  /** `maxBytes` <= 0: no bound. */
  constructor(private readonly maxBytes: number) {}

  get uncommittedBytes(): number {
    return this.bytes;
  }

  /** A new leader starts from the bytes of the tail beyond commitIndex it already holds. */
  reset(tailBytes: number): void {
    this.bytes = tailBytes;
  }

  /** May a command carrying `dataBytes` be appended? */
  admits(dataBytes: number): boolean {
    if (this.maxBytes <= 0 || this.bytes === 0) return true;
    return this.bytes + ENTRY_OVERHEAD_BYTES + dataBytes <= this.maxBytes;
  }

  appended(bytes: number): void {
    this.bytes += bytes;
  }

  committed(bytes: number): void {
    this.bytes = Math.max(0, this.bytes - bytes);
  }
}
