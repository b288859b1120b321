import type { Logger } from 'pino';

export interface ReadyLoopHooks {
  /** Protocol name, for the fatal log line. */
  protocol: string;
  logger: Logger;
  /** Does the core have a Ready to hand out? */
  hasReady(): boolean;
  /** One Ready cycle: ready() → send → persist → send after persist → apply → advance(). */
  cycle(): Promise<void>;
  /** Runs before every input (Raft delivers elapsed ticks here). */
  beforeInput?(): void;
}

/**
 * The replica loop every protocol shares (docs/design.md §3.2): inputs are stepped into the core at
 * once, except while a Ready is being persisted; those wait and are stepped together right
 * after it, so they all share the next fsync (group commit). One Ready cycle runs at a time,
 * started on setImmediate so that I/O arriving meanwhile joins the same batch.
 */
export class ReadyLoop {
  private readonly inbox: Array<() => void> = [];
  private persisting = false;
  private scheduled = false;
  private closed = false;

  constructor(private readonly hooks: ReadyLoopHooks) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Step an input now, or right after the batch being persisted. */
  input(fn: () => void): void {
    if (this.closed) return;
    if (this.persisting) this.inbox.push(fn);
    else this.run(fn);
    this.schedule();
  }

  /** Stop taking inputs and wait for a cycle in progress to finish. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.persisting) await new Promise((r) => setTimeout(r, 5));
  }

  private run(fn: () => void): void {
    try {
      this.hooks.beforeInput?.();
      fn();
    } catch (err) {
      // An invariant failure in the core means this replica cannot be trusted any more.
      this.hooks.logger.fatal({ err }, `${this.hooks.protocol} core failed; stopping the replica`);
      process.exit(70);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.persisting || this.closed) return;
    this.scheduled = true;
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    this.scheduled = false;
    if (this.persisting || this.closed || !this.hooks.hasReady()) return;
    this.persisting = true;
    try {
      await this.hooks.cycle();
    } catch (err) {
      this.hooks.logger.fatal({ err }, `persisting ${this.hooks.protocol} state failed; stopping the replica`);
      process.exit(70);
    }
    this.persisting = false;
    for (const fn of this.inbox.splice(0)) this.run(fn);
    this.schedule();
  }
}
