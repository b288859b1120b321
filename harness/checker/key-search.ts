/**
 * The linearizability search for one key: Wing & Gong's algorithm (1993) with Lowe's memo of
 * configurations (2017), laid out as Porcupine does it (Athalye, `checkSingle`).
 *
 * The history is a doubly linked list of call and return entries in time order. The calls before
 * the first return are the operations that may be linearized next. Linearizing one ("lifting"
 * it) unlinks its call and its return, and the scan restarts at the head. Reaching a return means
 * that operation should have been linearized already: backtrack, undo the last lift (dancing
 * links: the removed entries still point at their neighbours) and try the next candidate. The
 * history is linearizable once every `ok` operation has been lifted.
 *
 * Indeterminate (`info`) operations have their return at +infinity, so they never force a
 * backtrack, and the search stops without them once every ok operation is placed: they may have
 * happened at any time after their invoke, or never. Their calls sit in a second list, and they
 * are tried only after the ok candidates of the same point, so that the memo can prune the
 * configurations in which one was linearized for nothing (config-cache.ts).
 *
 * Beyond Porcupine, four reductions keep the search small; README.md argues why each loses no
 * linearization, and key-search.unit.ts checks the search against brute force:
 * - a candidate read that returned the current value is linearized at once, and is the only move
 *   tried at that point;
 * - dead info operations, whose value nothing left can observe, are never tried (info-liveness.ts);
 * - of interchangeable info operations only the latest invoked is tried, and the memo counts them
 *   instead of naming them (info-usage.ts);
 * - an info operation is never directly followed by a blind write or delete.
 *
 * The search is resumable: `run(deadline)` pauses when the deadline passes and continues where it
 * stopped on the next call, which lets the caller share one time budget between keys.
 */
import { ZobristBitset } from './bitset.js';
import { ConfigCache } from './config-cache.js';
import { InfoLiveness } from './info-liveness.js';
import { InfoUsage } from './info-usage.js';
import type { KvState } from './kv-model.js';
import type { Operation } from './operations.js';

export type SearchStatus = 'linearizable' | 'violation' | 'paused';

/** Where the search got furthest, when it failed. Operations are indices into `KeySearch.ops`. */
export interface SearchFailure {
  /** The longest linearizable prefix found, in linearization order. */
  readonly prefix: readonly number[];
  /** The state after that prefix. */
  readonly state: KvState;
  /** The ok operations that could have come next; none could. */
  readonly candidates: readonly number[];
  /** The info operations that could have come next; none helped. */
  readonly infoCandidates: readonly number[];
  /** The operation whose return ended the candidates: it had to be linearized by then. */
  readonly blocking: number;
}

const NIL = -1;
/** Head sentinels of the call/return list of ok operations and of the info call list. */
const OK_HEAD = 0;
const INFO_HEAD = 1;
const CALL = 0;
const RETURN = 1;
/**
 * The search is a loop over four phases: at a new point (after a lift), look for a read that can
 * be linearized at once; scan the ok candidates; try info operations after the ok candidates ran
 * out; backtrack.
 */
const PHASE_FRESH = 0;
const PHASE_OK = 1;
const PHASE_INFO = 2;
const PHASE_BACKTRACK = 3;
const READ = 0;
const CAS = 1;
const WRITE = 2;
const DELETE = 3;
/** Codes from here on are blind: the state after them does not depend on the state before. */
const BLIND = WRITE;
/** Interned state of an absent key. */
const ABSENT = 0;
/** How many loop iterations between two looks at the clock. */
const CLOCK_EVERY = 1024;

const OP_CODES = { read: READ, write: WRITE, cas: CAS, delete: DELETE } as const;

export class KeySearch {
  /** The key's operations, sorted by invoke time. */
  readonly ops: readonly Operation[];
  /** Interned values: index → value; index 0 is "absent". */
  private readonly values: KvState[] = [null];

  private readonly opCode: Uint8Array;
  private readonly opA: Int32Array;
  private readonly opB: Int32Array;
  /** The value a read or cas observes, or NIL. */
  private readonly opObserved: Int32Array;
  private readonly opIsOk: Uint8Array;
  /** Bit of the op in `okSet`, or in `infoUsage` for an info op. */
  private readonly opBit: Int32Array;
  private readonly infoOpByBit: Int32Array;
  private readonly opInvokeTime: Float64Array;
  private readonly opReturnTime: Float64Array;
  /** For an info op: the next info op, by invoke time, that does exactly the same; or NIL. */
  private readonly nextTwin: Int32Array;
  private readonly callEntry: Int32Array;
  private readonly returnEntry: Int32Array;

  private readonly entryOp: Int32Array;
  private readonly entryKind: Uint8Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;

  private readonly okSet: ZobristBitset;
  private readonly infoUsage: InfoUsage;
  private readonly liveness: InfoLiveness;
  private readonly cache: ConfigCache;

  private readonly stackOp: Int32Array;
  private readonly stackState: Int32Array;
  private readonly stackLimit: Int32Array;
  /** 1 where the lift was a forced read (PHASE_FRESH). */
  private readonly stackForced: Uint8Array;

  // The search registers, saved when it pauses.
  private sp = 0;
  private state = ABSENT;
  private entry: number;
  private phase = PHASE_FRESH;
  private limit = NIL;
  private remainingOk: number;
  private outcome: 'linearizable' | 'violation' | undefined;

  /**
   * The deepest dead end so far. Its prefix is kept incrementally: `bestShared` is how much of
   * the current stack still equals it, so recording a deeper one copies only the new part and
   * the whole search copies O(pushes) entries, not O(depth) per new record.
   */
  private readonly bestPrefix: Int32Array;
  private bestLength = -1;
  private bestShared = 0;
  private best: Omit<SearchFailure, 'state' | 'prefix'> & { readonly stateId: number } = {
    stateId: ABSENT,
    candidates: [],
    infoCandidates: [],
    blocking: NIL,
  };

  constructor(ops: readonly Operation[], seed = 0x5eed) {
    this.ops = [...ops].sort((a, b) => a.invokeTime - b.invokeTime || a.id - b.id);
    const n = this.ops.length;
    this.opCode = new Uint8Array(n);
    this.opA = new Int32Array(n);
    this.opB = new Int32Array(n);
    this.opObserved = new Int32Array(n).fill(NIL);
    this.opIsOk = new Uint8Array(n);
    this.opBit = new Int32Array(n);
    this.opInvokeTime = new Float64Array(n);
    this.opReturnTime = new Float64Array(n);
    this.nextTwin = new Int32Array(n).fill(NIL);
    this.callEntry = new Int32Array(n).fill(NIL);
    this.returnEntry = new Int32Array(n).fill(NIL);
    const okObserved: number[] = [];
    const infoObserved: number[] = [];
    const infoEffect: number[] = [];
    const interned = new Map<string, number>();
    const intern = (value: unknown): number => {
      if (typeof value !== 'string') return ABSENT;
      let id = interned.get(value);
      if (id === undefined) {
        id = this.values.length;
        this.values.push(value);
        interned.set(value, id);
      }
      return id;
    };
    this.ops.forEach((op, i) => {
      const code = OP_CODES[op.f];
      this.opCode[i] = code;
      if (op.f === 'cas' && Array.isArray(op.value)) {
        this.opA[i] = intern(op.value[0]);
        this.opB[i] = intern(op.value[1]);
      } else {
        this.opA[i] = intern(op.value);
      }
      const observed = code === READ || code === CAS ? this.opA[i]! : NIL;
      this.opObserved[i] = observed;
      const ok = op.status === 'ok';
      this.opIsOk[i] = ok ? 1 : 0;
      if (ok) {
        this.opBit[i] = okObserved.length;
        okObserved.push(observed);
      } else {
        this.opBit[i] = infoEffect.length;
        infoObserved.push(observed);
        infoEffect.push(code === CAS ? this.opB[i]! : code === DELETE ? ABSENT : this.opA[i]!);
      }
      this.opInvokeTime[i] = op.invokeTime;
      this.opReturnTime[i] = op.returnTime;
    });
    const kinds = this.linkTwins();
    const okCount = okObserved.length;
    const infoCount = infoEffect.length;
    this.remainingOk = okCount;
    this.okSet = new ZobristBitset(okCount, seed);
    this.infoUsage = new InfoUsage(kinds);
    this.cache = new ConfigCache(this.infoUsage.bitWords);
    this.liveness = new InfoLiveness(this.values.length, okObserved, infoObserved, infoEffect);
    this.infoOpByBit = new Int32Array(infoCount);
    this.ops.forEach((op, i) => {
      if (op.status === 'info') this.infoOpByBit[this.opBit[i]!] = i;
    });
    this.stackOp = new Int32Array(n);
    this.stackState = new Int32Array(n);
    this.stackLimit = new Int32Array(n);
    this.stackForced = new Uint8Array(n);
    this.bestPrefix = new Int32Array(n);

    const entries = 2 + 2 * okCount + infoCount;
    this.entryOp = new Int32Array(entries).fill(NIL);
    this.entryKind = new Uint8Array(entries);
    this.next = new Int32Array(entries).fill(NIL);
    this.prev = new Int32Array(entries).fill(NIL);
    this.buildLists();
    for (let bit = 0; bit < infoCount; bit++) {
      if (!this.liveness.isLive(bit)) unlink(this.next, this.prev, this.callEntry[this.infoOpByBit[bit]!]!);
    }
    this.entry = this.next[OK_HEAD]!;
  }

  /** Configurations visited so far (the size of the memo). */
  get statesExplored(): number {
    return this.cache.size;
  }

  /** Searches until it decides or `deadlineMs` (a `performance.now()` time) passes. */
  run(deadlineMs: number = Infinity): SearchStatus {
    if (this.outcome !== undefined) return this.outcome;
    const { opCode, opA, opB, opObserved, opIsOk, opBit, opInvokeTime, opReturnTime, callEntry } = this;
    const { entryOp, entryKind, next, okSet, infoUsage, liveness, cache } = this;
    const { stackOp, stackState, stackLimit, stackForced } = this;
    let { sp, state, entry, phase, limit, remainingOk } = this;
    let limitTime = limit === NIL ? Infinity : opReturnTime[entryOp[limit]!]!;
    // Right after an info operation, a blind write or delete would erase its effect unseen; the
    // same linearization without the info operation does as well, so that order is not tried.
    let afterInfo = sp > 0 && opIsOk[stackOp[sp - 1]!] === 0;
    const maskInfo = (): Uint32Array => infoUsage.memoKey(liveness.live);
    let clock = 0;
    for (;;) {
      if (remainingOk === 0) {
        this.outcome = 'linearizable';
        break;
      }
      if (++clock === CLOCK_EVERY) {
        clock = 0;
        if (performance.now() >= deadlineMs) {
          Object.assign(this, { sp, state, entry, phase, limit, remainingOk });
          return 'paused';
        }
      }
      if (phase === PHASE_FRESH) {
        // A new point. If a candidate read returned the current value, linearizing it first loses
        // nothing (it changes no state, and every operation that returned before its invoke is
        // already placed), so it is the only move tried here: if it fails, so does this point.
        phase = PHASE_OK;
        entry = next[OK_HEAD]!;
        const read = this.matchingRead(state);
        if (read === NIL) continue;
        okSet.flip(opBit[read]!);
        if (liveness.observerLinearized(state)) this.unlinkDead(state);
        if (cache.visit(okSet, maskInfo(), state, false)) {
          stackOp[sp] = read;
          stackState[sp] = state;
          stackForced[sp] = 1;
          sp++;
          this.lift(read);
          remainingOk--;
          afterInfo = false;
          phase = PHASE_FRESH;
          continue;
        }
        okSet.flip(opBit[read]!);
        if (liveness.observerRestored(state)) this.relinkLive(state);
        // Seen before and failed: so does this point. (The deepest dead end lies below it.)
        phase = PHASE_BACKTRACK;
        continue;
      }
      if (phase === PHASE_OK) {
        if (entryKind[entry] === CALL) {
          const op = entryOp[entry]!;
          const code = opCode[op]!;
          const after = afterInfo && code >= BLIND ? NIL : step(code, opA[op]!, opB[op]!, state);
          if (after !== NIL) {
            const observed = opObserved[op]!;
            okSet.flip(opBit[op]!);
            if (observed !== NIL && liveness.observerLinearized(observed)) this.unlinkDead(observed);
            if (cache.visit(okSet, maskInfo(), after, false)) {
              stackOp[sp] = op;
              stackState[sp] = state;
              stackForced[sp] = 0;
              sp++;
              state = after;
              this.lift(op);
              remainingOk--;
              afterInfo = false;
              phase = PHASE_FRESH;
              continue;
            }
            okSet.flip(opBit[op]!);
            if (observed !== NIL && liveness.observerRestored(observed)) this.relinkLive(observed);
          }
          entry = next[entry]!;
          continue;
        }
        // The first return: every ok candidate of this point has been tried.
        phase = PHASE_INFO;
        limit = entry;
        limitTime = opReturnTime[entryOp[entry]!]!;
        entry = next[INFO_HEAD]!;
        continue;
      }
      if (phase === PHASE_INFO) {
        // An info operation is a candidate if it was invoked before the first return (ties
        // count as concurrent, as in the ok list).
        if (entry !== NIL && opInvokeTime[entryOp[entry]!]! <= limitTime) {
          const op = entryOp[entry]!;
          const code = opCode[op]!;
          const bit = opBit[op]!;
          const after =
            (afterInfo && code >= BLIND) || !liveness.isLive(bit) || this.hasLaterTwin(op, limitTime)
              ? NIL
              : step(code, opA[op]!, opB[op]!, state);
          if (after !== NIL) {
            infoUsage.flip(bit);
            if (cache.visit(okSet, maskInfo(), after, true)) {
              stackOp[sp] = op;
              stackState[sp] = state;
              stackLimit[sp] = limit;
              stackForced[sp] = 0;
              sp++;
              state = after;
              this.lift(op);
              afterInfo = true;
              phase = PHASE_FRESH;
              continue;
            }
            infoUsage.flip(bit);
          }
          entry = next[entry]!;
          continue;
        }
        // Dead end: nothing can be linearized here.
        this.noteDeadEnd(sp, state, limit, limitTime);
        phase = PHASE_BACKTRACK;
      }
      // Backtrack: undo the last lift and try the next candidate of the point before it.
      if (sp === 0) {
        this.outcome = 'violation';
        break;
      }
      sp--;
      if (sp < this.bestShared) this.bestShared = sp;
      const op = stackOp[sp]!;
      state = stackState[sp]!;
      this.unlift(op);
      if (opIsOk[op] === 1) {
        okSet.flip(opBit[op]!);
        const observed = opObserved[op]!;
        if (observed !== NIL && liveness.observerRestored(observed)) this.relinkLive(observed);
        remainingOk++;
        // After a forced read, the point it was forced at has failed as a whole.
        phase = stackForced[sp] === 1 ? PHASE_BACKTRACK : PHASE_OK;
      } else {
        infoUsage.flip(opBit[op]!);
        limit = stackLimit[sp]!;
        limitTime = opReturnTime[entryOp[limit]!]!;
        phase = PHASE_INFO;
      }
      afterInfo = sp > 0 && opIsOk[stackOp[sp - 1]!] === 0;
      entry = next[callEntry[op]!]!;
    }
    Object.assign(this, { sp, state, entry, phase, limit, remainingOk });
    return this.outcome;
  }

  /** After a violation: the furthest point the search reached. */
  failure(): SearchFailure | undefined {
    if (this.outcome !== 'violation' || this.bestLength < 0) return undefined;
    const { stateId, ...rest } = this.best;
    return { ...rest, prefix: Array.from(this.bestPrefix.subarray(0, this.bestLength)), state: this.values[stateId] ?? null };
  }

  /** The first candidate read that returned `state`, or NIL. */
  private matchingRead(state: number): number {
    for (let e = this.next[OK_HEAD]!; e !== NIL && this.entryKind[e] === CALL; e = this.next[e]!) {
      const op = this.entryOp[e]!;
      if (this.opCode[op] === READ && this.opA[op] === state) return op;
    }
    return NIL;
  }

  /** Keeps the deepest dead end: the longest linearizable prefix and what could not follow it. */
  private noteDeadEnd(sp: number, state: number, limit: number, limitTime: number): void {
    if (sp <= this.bestLength) return;
    this.bestPrefix.set(this.stackOp.subarray(this.bestShared, sp), this.bestShared);
    this.bestLength = sp;
    this.bestShared = sp;
    const candidates: number[] = [];
    for (let e = this.next[OK_HEAD]!; e !== limit && e !== NIL; e = this.next[e]!) {
      candidates.push(this.entryOp[e]!);
    }
    const infoCandidates: number[] = [];
    for (let e = this.next[INFO_HEAD]!; e !== NIL; e = this.next[e]!) {
      const op = this.entryOp[e]!;
      if (this.opInvokeTime[op]! > limitTime) break;
      if (this.liveness.isLive(this.opBit[op]!) && !this.hasLaterTwin(op, limitTime)) infoCandidates.push(op);
    }
    this.best = { stateId: state, candidates, infoCandidates, blocking: this.entryOp[limit]! };
  }

  /**
   * Info operations that do exactly the same (in practice: deletes) are interchangeable, except
   * that an earlier-invoked one may be placed anywhere a later one may. So only the latest
   * available one is tried; the others stay free for later points. Without this symmetry
   * reduction k indeterminate deletes give 2^k equivalent configurations.
   */
  private hasLaterTwin(op: number, limitTime: number): boolean {
    for (let twin = this.nextTwin[op]!; twin !== NIL; twin = this.nextTwin[twin]!) {
      if (this.opInvokeTime[twin]! > limitTime) return false;
      if (!this.infoUsage.isUsed(this.opBit[twin]!)) return true;
    }
    return false;
  }

  /** Links each info op to its next twin; returns what each info op does, by its bit. */
  private linkTwins(): string[] {
    const lastOfKind = new Map<string, number>();
    const kinds: string[] = [];
    this.ops.forEach((op, i) => {
      if (op.status === 'ok') return;
      const kind = `${this.opCode[i]} ${this.opA[i]} ${this.opB[i]}`;
      kinds[this.opBit[i]!] = kind;
      const previous = lastOfKind.get(kind);
      if (previous !== undefined) this.nextTwin[previous] = i;
      lastOfKind.set(kind, i);
    });
    return kinds;
  }

  /** Links the ok operations' calls and returns in time order, and the info calls apart. */
  private buildLists(): void {
    const n = this.ops.length;
    let free = 2;
    const append = (tail: number, op: number, kind: number): number => {
      const e = free++;
      this.entryOp[e] = op;
      this.entryKind[e] = kind;
      this.next[tail] = e;
      this.prev[e] = tail;
      if (kind === CALL) this.callEntry[op] = e;
      else this.returnEntry[op] = e;
      return e;
    };
    const okOps: number[] = [];
    let infoTail = INFO_HEAD;
    for (let i = 0; i < n; i++) {
      if (this.opIsOk[i] === 1) okOps.push(i);
      else infoTail = append(infoTail, i, CALL);
    }
    const byReturn = [...okOps].sort((a, b) => this.opReturnTime[a]! - this.opReturnTime[b]! || a - b);
    let tail = OK_HEAD;
    let c = 0;
    let r = 0;
    while (r < byReturn.length) {
      const call = okOps[c];
      const ret = byReturn[r]!;
      // At equal times the call goes first: such operations count as concurrent.
      if (call !== undefined && this.opInvokeTime[call]! <= this.opReturnTime[ret]!) {
        tail = append(tail, call, CALL);
        c++;
      } else {
        tail = append(tail, ret, RETURN);
        r++;
      }
    }
  }

  /**
   * Takes the info operations that leave `value` behind out of the info list: they just became
   * dead, and scanning past them at every dead end would cost O(info operations) each time. Like
   * lifts, these removals are undone in reverse order, so the dancing links stay valid.
   */
  private unlinkDead(value: number): void {
    for (const bit of this.liveness.leavingBehind(value)) {
      if (!this.infoLinearized(bit)) unlink(this.next, this.prev, this.callEntry[this.infoOpByBit[bit]!]!);
    }
  }

  private relinkLive(value: number): void {
    const bits = this.liveness.leavingBehind(value);
    for (let i = bits.length - 1; i >= 0; i--) {
      const bit = bits[i]!;
      if (!this.infoLinearized(bit)) relink(this.next, this.prev, this.callEntry[this.infoOpByBit[bit]!]!);
    }
  }

  private infoLinearized(bit: number): boolean {
    return this.infoUsage.isUsed(bit);
  }

  private lift(op: number): void {
    unlink(this.next, this.prev, this.callEntry[op]!);
    const ret = this.returnEntry[op]!;
    if (ret !== NIL) unlink(this.next, this.prev, ret);
  }

  private unlift(op: number): void {
    const ret = this.returnEntry[op]!;
    if (ret !== NIL) relink(this.next, this.prev, ret);
    relink(this.next, this.prev, this.callEntry[op]!);
  }
}

/** The key-value model (kv-model.ts) on interned values; NIL when the operation cannot happen. */
function step(code: number, a: number, b: number, state: number): number {
  switch (code) {
    case READ:
      return state === a ? state : NIL;
    case WRITE:
      return a;
    case CAS:
      return state === a ? b : NIL;
    case DELETE:
      return ABSENT;
    default:
      return NIL;
  }
}

function unlink(next: Int32Array, prev: Int32Array, e: number): void {
  const p = prev[e]!;
  const n = next[e]!;
  next[p] = n;
  if (n !== NIL) prev[n] = p;
}

/** Dancing links (Knuth): `e` still points at its old neighbours, so it goes back in place. */
function relink(next: Int32Array, prev: Int32Array, e: number): void {
  const p = prev[e]!;
  const n = next[e]!;
  next[p] = e;
  if (n !== NIL) prev[n] = e;
}
