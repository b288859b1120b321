/**
 * Turns a history's events into operations: each `invoke` paired with its process's next
 * completion. What the checker needs to know about an operation is when it was invoked, when it
 * returned, what it did and whether it certainly happened:
 *
 * - `ok`: it happened, somewhere between its invoke and its return;
 * - `fail`: it certainly did not happen: dropped;
 * - `info` (or no completion at all by the end of the history): it may have happened at any time
 *   after its invoke, or never. Its return is at +infinity and the search may leave it out.
 *   An indeterminate read is dropped too: it changes nothing and observed nothing.
 */
import { HistoryError, isClientEvent } from './history.js';
import type { EventValue, HistoryEvent, NemesisEvent, OpName } from './history.js';

export type OpStatus = 'ok' | 'info';

export interface Operation {
  /** Position in the checked history, in invoke order. */
  readonly id: number;
  readonly process: number;
  readonly f: OpName;
  readonly key: string;
  /** write: value written; cas: `[expected, new]`; read: the value it returned; delete: null. */
  readonly value: EventValue;
  readonly status: OpStatus;
  readonly invokeTime: number;
  /** `Infinity` for an indeterminate (`info`) operation. */
  readonly returnTime: number;
}

export interface PairedHistory {
  /** Sorted by invoke time. */
  readonly ops: Operation[];
  /** Operations that completed with `fail` (they never happened). */
  readonly failed: number;
  /** Indeterminate reads, dropped. */
  readonly infoReads: number;
  /** Events of non-client processes, ignored. */
  readonly nemesis: number;
}

type Draft = Omit<Operation, 'id'>;

export function pairOperations(events: ReadonlyArray<HistoryEvent | NemesisEvent>): PairedHistory {
  const open = new Map<number, HistoryEvent>();
  const drafts: Draft[] = [];
  let failed = 0;
  let infoReads = 0;
  let nemesis = 0;
  const complete = (invoke: HistoryEvent, completion: HistoryEvent | undefined): void => {
    const type = completion?.type ?? 'info';
    if (type === 'fail') failed++;
    else if (type === 'info' && invoke.f === 'read') infoReads++;
    else drafts.push(toDraft(invoke, completion?.type === 'ok' ? completion : undefined));
  };
  for (const event of events) {
    if (!isClientEvent(event)) {
      nemesis++;
      continue;
    }
    const pending = open.get(event.process);
    if (event.type === 'invoke') {
      if (pending !== undefined) {
        throw new HistoryError(
          `process ${event.process} invoked ${event.f} at time ${event.time} while its ${pending.f} ` +
            `invoked at time ${pending.time} was still open`,
        );
      }
      open.set(event.process, event);
      continue;
    }
    if (pending === undefined) {
      throw new HistoryError(
        `process ${event.process}: ${event.type} ${event.f} at time ${event.time} has no invoke`,
      );
    }
    checkCompletion(pending, event);
    open.delete(event.process);
    complete(pending, event);
  }
  // Jepsen's rule: an operation still open when the history ends is indeterminate.
  for (const pending of open.values()) complete(pending, undefined);
  drafts.sort((a, b) => a.invokeTime - b.invokeTime);
  return { ops: drafts.map((draft, id) => ({ id, ...draft })), failed, infoReads, nemesis };
}

function checkCompletion(invoke: HistoryEvent, completion: HistoryEvent): void {
  const what = `process ${invoke.process}: ${completion.type} at time ${completion.time}`;
  if (completion.f !== invoke.f) {
    throw new HistoryError(`${what} is a ${completion.f} but the open invoke is a ${invoke.f}`);
  }
  if (completion.key !== invoke.key) {
    throw new HistoryError(`${what} is for key ${JSON.stringify(completion.key)} but the invoke was for ${JSON.stringify(invoke.key)}`);
  }
  if (completion.time < invoke.time) {
    throw new HistoryError(`${what} is earlier than its invoke at time ${invoke.time}`);
  }
}

function toDraft(invoke: HistoryEvent, ok: HistoryEvent | undefined): Draft {
  return {
    process: invoke.process,
    f: invoke.f,
    key: invoke.key,
    // A read's meaning is in its completion; every other operation's is in its invoke.
    value: invoke.f === 'read' ? (ok?.value ?? null) : invoke.value,
    status: ok === undefined ? 'info' : 'ok',
    invokeTime: invoke.time,
    returnTime: ok === undefined ? Infinity : ok.time,
  };
}

/**
 * One sub-history per key. Each key is an independent register, so the history is linearizable
 * iff every key's sub-history is (locality: Herlihy & Wing 1990; P-compositionality: Horn &
 * Kroening 2015).
 */
export function partitionByKey(ops: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  return byKey;
}
