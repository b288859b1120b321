/**
 * The replica host: the part of a leader-based runtime (Raft, Multi-Paxos) that is the same for
 * both, between the HTTP API (`KvService`, nodes/http/kv-service.ts) and the protocol's core
 * (docs/design.md §3.2, §3.6). It owns the replica loop (nodes/ready-loop.ts), the state machine
 * the runtime applies to, the client requests waiting for it, and forwarding to the leader:
 *
 * - admission: a request needs a known leader and room (`maxPendingRequests`), else
 *   NO_LEADER or OVERLOADED;
 * - writes: proposed to the core at the leader, forwarded to it elsewhere (nodes/forwarding),
 *   and answered once applied here, or TIMEOUT at `requestTimeoutMs`;
 * - linearizable reads: a read index from the core at the leader, from the leader elsewhere
 *   (a follower read, dissertation §6.4), served once applied that far;
 * - the peer messages: forwarding's own, and the protocol's, checked against the sender the
 *   transport authenticated (§3.5, §3.7);
 * - the timers (ticks, expiry of pending requests) and closing.
 *
 * A runtime extends it with what is its protocol's own: its core, the Ready cycle, storage,
 * snapshots, where a write waits in its log, and its status. PBFT has no leader to forward to
 * (every replica is a gateway, nodes/pbft/pbft-kv-service.ts), so it does not use this host.
 */
import type { Logger } from 'pino';
import type { KvCommand, KvResult } from '../../protocols/kv/commands.js';
import { KvStateMachine } from '../../protocols/kv/state-machine.js';
import { encodeCommand } from '../command-codec.js';
import { ForwardClient } from '../forwarding/forward-client.js';
import { ForwardServer, type ProposeOutcome } from '../forwarding/forward-server.js';
import { isForwardMessage } from '../forwarding/messages.js';
import { NotLeaderError, ServiceError } from '../http/errors.js';
import type { KvService } from '../http/kv-service.js';
import { ReadWaiters } from '../read-waiters.js';
import { ReadyLoop } from '../ready-loop.js';
import type { Transport } from '../transport/index.js';
import type { RuntimeTuning } from '../tuning.js';
import { WaiterTable, type Waiter } from '../waiter-table.js';

/** The counters the host bumps; each runtime's stats class has them under these names. */
export interface HostStats {
  proposals: number;
  timeouts: number;
  overloaded: number;
  badMessages: number;
}

/** A protocol message as the runtime guard admits it: addressed, so `from` and `to` can be checked. */
export interface AddressedMessage {
  from: string;
  to: string;
}

export interface ReplicaHostOptions<Placement, Message extends AddressedMessage> {
  id: string;
  /** The protocol's name in the loop's fatal log line ('raft', 'multi-paxos'). */
  loopName: string;
  /** HTTP base URL of every replica, for forwarding to the leader. */
  httpUrls: Record<string, string>;
  tuning: RuntimeTuning;
  transport: Transport;
  logger: Logger;
  /** Answer linearizable reads from local state: deliberately unsafe, for the harness. */
  unsafeLocalReads: boolean;
  /** The runtime guard of the protocol's peer messages (nodes/<protocol>/message-guard.ts). */
  isPeerMessage: (value: unknown) => value is Message;
  /** Checks where a leader says it put a forwarded write (forwarding's ForwardReply). */
  isPlacement: (value: unknown) => value is Placement;
  /** The message of TIMEOUT for a write not applied in time ("not committed in time; ..."). */
  writeTimeout: string;
}

/**
 * `Placement` is where the leader put a write (Raft: index and term; Multi-Paxos: slot, ballot and
 * position in the batch), `Message` the protocol's peer message, `PendingWrite` what a write waits
 * as (the runtime's own fields added to a Waiter).
 */
export abstract class ReplicaHost<Placement, Message extends AddressedMessage, PendingWrite extends Waiter<KvResult>> implements KvService {
  readonly id: string;
  abstract readonly protocol: string;
  protected abstract readonly stats: HostStats;
  /** Replaced whole when a snapshot from a peer has been restored (in the background). */
  protected sm = new KvStateMachine();
  /** The highest index (Raft) or slot (Multi-Paxos) applied to the state machine. */
  protected appliedIndex = 0;
  /** Writes waiting to be applied here, by a key of the runtime's choosing; the runtime resolves them. */
  protected readonly writes = new WaiterTable<number, KvResult, PendingWrite>();
  protected readonly reads: ReadWaiters;
  protected readonly loop: ReadyLoop;
  /** Forwarding over the replica transport (nodes/forwarding): as a follower, and as the leader. */
  protected readonly forward: ForwardClient<Placement>;
  protected readonly forwarded: ForwardServer<Placement>;
  /** Every member's HTTP URL: the cluster file's, and members a runtime adds later; our own copy, never the caller's. */
  protected readonly httpUrls: Map<string, string>;
  private readonly timers: NodeJS.Timeout[] = [];

  protected constructor(protected readonly host: ReplicaHostOptions<Placement, Message>) {
    this.id = host.id;
    this.httpUrls = new Map(Object.entries(host.httpUrls));
    this.loop = new ReadyLoop({
      protocol: host.loopName,
      logger: host.logger,
      hasReady: () => this.hasReady(),
      cycle: () => this.cycle(),
      beforeInput: () => this.beforeInput(),
    });
    this.reads = new ReadWaiters(host.tuning.requestTimeoutMs);
    this.forward = new ForwardClient({ self: host.id, transport: host.transport, timeoutMs: host.tuning.requestTimeoutMs });
    this.forwarded = new ForwardServer({
      self: host.id,
      transport: host.transport,
      propose: (data) => this.propose(data),
      read: (ctx, lease) => this.askReadIndex(ctx, lease),
      leader: () => this.leader(),
    });
  }

  // ---- what each runtime provides ---------------------------------------------------------

  /** The leader's id as this replica knows it (itself when leading), or null. */
  abstract leader(): string | null;
  abstract status(): Record<string, unknown>;
  /** Does the core have a Ready to hand out? */
  protected abstract hasReady(): boolean;
  /** One Ready cycle, in the order of the core's Ready contract (docs/design.md §2.2). */
  protected abstract cycle(): Promise<void>;
  /** Inside the loop: propose an encoded command to the core; where it went, or why not. */
  protected abstract propose(data: Uint8Array): ProposeOutcome<Placement>;
  /** Inside the loop: ask the core to confirm its leadership for read `ctx` (or to serve it under its lease). */
  protected abstract askReadIndex(ctx: number, lease: boolean): void;
  /** Step a peer message that passed the guard and the sender check. */
  protected abstract step(message: Message): void;
  /** Register `waiter` for the write at `at` (proposed here, as the leader). */
  protected abstract waitForWrite(at: Placement, waiter: Waiter<KvResult>): void;
  /** Wait for a write the leader placed at `at` (forwarded from here): settled once applied here. */
  protected abstract awaitForwarded(at: Placement, deadlineMs: number): Promise<KvResult>;
  /** Closing: stop the runtime's own work (snapshot jobs) and fail what only it waits on. */
  protected abstract closeRuntime(closing: () => ServiceError): void;

  /** Runs before every input of the loop (Raft delivers the ticks that elapsed here). */
  protected beforeInput(): void {}

  /** Where client requests go: this replica, the leader they are forwarded to, or null (none known). */
  protected requestTarget(): string | null {
    return this.leader();
  }

  // ---- KvService -------------------------------------------------------------------------

  httpUrlOf(id: string): string | null {
    return this.httpUrls.get(id) ?? null;
  }

  healthy(): boolean {
    return !this.loop.isClosed;
  }

  execute(command: KvCommand): Promise<KvResult> {
    const leader = this.admit();
    const data = encodeCommand(command);
    const deadlineMs = this.deadline();
    if (leader !== this.id) return this.forward.write(leader, data).then((at) => this.awaitForwarded(at, deadlineMs));
    return new Promise<KvResult>((resolve, reject) => {
      this.loop.input(() => {
        const r = this.propose(data);
        if (!r.ok) return reject(refusedHere(r));
        this.stats.proposals++;
        this.waitForWrite(r.at, { resolve, reject, deadlineMs });
      });
    });
  }

  readLinearizable(key: string): Promise<string | null> {
    if (this.host.unsafeLocalReads) return Promise.resolve(this.sm.get(key));
    return this.read(key, false);
  }

  readStale(key: string): string | null {
    return this.sm.get(key);
  }

  async close(): Promise<void> {
    if (this.loop.isClosed) return;
    const stopped = this.loop.close(); // no input is taken from here on
    for (const t of this.timers) clearInterval(t);
    const closing = () => new ServiceError('NO_LEADER', 'the replica is shutting down', {}, 1);
    this.closeRuntime(closing);
    this.writes.rejectAll(closing);
    this.reads.rejectAll(closing);
    this.forward.rejectAll(closing);
    await stopped;
  }

  // ---- for the runtime -------------------------------------------------------------------

  /**
   * Start serving, once the core is built and the disk state restored: take peer messages, tick
   * every `tickMs` (`tick` runs inside the loop), expire pending requests, and hand out the
   * first Ready (what a restart re-applies).
   */
  protected serve(tick: () => void): void {
    this.host.transport.onMessage((from, message) => this.receive(from, message));
    this.timers.push(setInterval(() => this.loop.input(tick), this.host.tuning.tickMs));
    this.timers.push(setInterval(() => this.expireRequests(Date.now()), 100));
    this.loop.input(() => undefined);
  }

  /**
   * ReadIndex (dissertation §6.4) at the leader, or a follower read: the follower asks the leader
   * for the read index, waits until it has applied that far, and serves from its own state.
   * `lease`: a lease read (§6.4.1), where the protocol has leases.
   */
  protected read(key: string, lease: boolean): Promise<string | null> {
    const leader = this.admit();
    if (leader === this.id) return this.reads.add(key, (ctx) => this.loop.input(() => this.askReadIndex(ctx, lease)));
    return this.reads.add(key, (ctx) => {
      this.forward.readIndex(leader, lease).then(
        (index) => this.readsAnswered([{ ctx, index }], []),
        (err: unknown) => this.reads.fail(ctx, err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  /** The core's (or the leader's) answers to read-index rounds: forwarded ones go back, local ones are served once applied. */
  protected readsAnswered(states: ReadonlyArray<{ ctx: number; index: number }>, failed: number[]): void {
    this.forwarded.readsAnswered(states, failed);
    this.reads.answered(states, failed, this.leader());
    if (states.length > 0) this.reads.release(this.appliedIndex, this.sm);
  }

  /** A request's deadline: `requestTimeoutMs` from now. */
  protected deadline(): number {
    return Date.now() + this.host.tuning.requestTimeoutMs;
  }

  /** Every 100 ms: requests past their deadline get TIMEOUT (their outcome is unknown). */
  protected expireRequests(now: number): void {
    this.stats.timeouts += this.writes.expire(now, () => new ServiceError('TIMEOUT', this.host.writeTimeout));
    this.stats.timeouts += this.reads.expire(now);
    this.forward.expire(now);
  }

  // ---- internals -------------------------------------------------------------------------

  private receive(from: string, message: unknown): void {
    if (isForwardMessage(message, this.host.isPlacement) && message.from === from && message.to === this.id) {
      if (message.type === 'ForwardReply') this.forward.onReply(from, message);
      else this.loop.input(() => this.forwarded.handle(from, message));
      return;
    }
    // The transport authenticated `from`; a message claiming another sender is dropped.
    if (!this.host.isPeerMessage(message) || message.from !== from || message.to !== this.id) {
      this.stats.badMessages++;
      this.host.logger.warn({ from }, 'dropped a malformed or misaddressed peer message');
      return;
    }
    this.loop.input(() => this.step(message));
  }

  /** Admission: returns the leader to send the request to (this replica, or the one it forwards to). */
  private admit(): string {
    const leader = this.requestTarget();
    if (leader === null) throw new NotLeaderError(null);
    if (this.writes.size + this.reads.size + this.forward.size >= this.host.tuning.maxPendingRequests) {
      this.stats.overloaded++;
      throw new ServiceError('OVERLOADED', 'too many requests in flight at this replica', {}, 1);
    }
    return leader;
  }
}

/**
 * Why the core refused a proposal made here, as the client sees it: OVERLOADED (only Raft's flow
 * control on its uncommitted tail refuses for load) or not the leader.
 */
function refusedHere(r: Extract<ProposeOutcome<unknown>, { ok: false }>): Error {
  if (r.refused === 'overloaded') {
    return new ServiceError('OVERLOADED', 'the leader holds too many uncommitted entries; retry shortly', {}, 1);
  }
  return new NotLeaderError(r.leader);
}
