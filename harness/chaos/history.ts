/**
 * History recording (docs/design.md §6): client events in Jepsen's vocabulary plus events of the
 * `nemesis` process, with a monotonic nanosecond clock relative to the start of the run.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';
export type OpF = 'read' | 'write' | 'cas' | 'delete';
export type OpValue = string | null | [string | null, string];

export interface ClientEvent {
  process: number;
  type: OpType;
  f: OpF;
  key: string;
  value: OpValue;
  time: number;
  /** Optional diagnostics that checkers ignore: which replica, HTTP status or error. */
  node?: string;
  error?: string;
}

export interface NemesisEvent {
  process: 'nemesis';
  type: 'info';
  /** `start-<fault>`, `stop-<fault>`, `heal`. */
  f: string;
  value: unknown;
  time: number;
}

export type HistoryEntry = ClientEvent | NemesisEvent;

export const isClient = (e: HistoryEntry): e is ClientEvent => e.process !== 'nemesis';

export class HistoryRecorder {
  readonly entries: HistoryEntry[] = [];
  private readonly startNs = process.hrtime.bigint();
  private stream: WriteStream | null = null;

  /** Also append every event to this file as it happens (so a crash keeps the history). */
  streamTo(path: string): void {
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  /** Nanoseconds since the recorder started (monotonic). */
  now(): number {
    return Number(process.hrtime.bigint() - this.startNs);
  }

  nowMs(): number {
    return this.now() / 1e6;
  }

  record<E extends HistoryEntry>(event: E): E {
    this.entries.push(event);
    this.stream?.write(JSON.stringify(event) + '\n');
    return event;
  }

  nemesis(f: string, value: unknown): NemesisEvent {
    return this.record({ process: 'nemesis', type: 'info', f, value, time: this.now() });
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    if (stream !== null) await new Promise<void>((resolve) => stream.end(() => resolve()));
  }
}

export function toJsonl(entries: readonly HistoryEntry[]): string {
  return entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length > 0 ? '\n' : '');
}

/** A completed client operation: its invoke and its completion (none while still open). */
export interface Operation {
  process: number;
  f: OpF;
  key: string;
  /** The invoke's value (write value, [expected, new] for cas, null for read/delete). */
  value: OpValue;
  /** The completion's value (the value read for an ok read). */
  result: OpValue;
  type: 'ok' | 'fail' | 'info';
  invokeNs: number;
  /** Completion time; for info operations, when the client gave up (it may take effect later). */
  completeNs: number;
  node?: string;
  error?: string;
  /** Index of the invoke in the history. */
  index: number;
}

/** Pair invokes with completions; an invoke never completed counts as info at the end. */
export function operations(entries: readonly HistoryEntry[]): Operation[] {
  const open = new Map<number, { event: ClientEvent; index: number }>();
  const ops: Operation[] = [];
  let lastNs = 0;
  entries.forEach((e, index) => {
    lastNs = Math.max(lastNs, e.time);
    if (!isClient(e)) return;
    if (e.type === 'invoke') {
      open.set(e.process, { event: e, index });
      return;
    }
    const inv = open.get(e.process);
    if (inv === undefined) return;
    open.delete(e.process);
    ops.push(toOperation(inv.event, inv.index, e));
  });
  for (const { event, index } of open.values()) {
    ops.push(toOperation(event, index, { ...event, type: 'info', time: Number.POSITIVE_INFINITY }));
  }
  return ops.sort((a, b) => a.index - b.index);
}

function toOperation(inv: ClientEvent, index: number, done: ClientEvent): Operation {
  const op: Operation = {
    process: inv.process,
    f: inv.f,
    key: inv.key,
    value: inv.value,
    result: done.value,
    type: done.type === 'invoke' ? 'info' : done.type,
    invokeNs: inv.time,
    completeNs: done.time,
    index,
  };
  const node = done.node ?? inv.node;
  if (node !== undefined) op.node = node;
  if (done.error !== undefined) op.error = done.error;
  return op;
}
