/**
 * The chaos workload: N concurrent client loops on a small key set (contention is the point),
 * each a Jepsen "process" with at most one operation open. An operation whose outcome is
 * unknown (`info`) retires its process; a fresh process number takes its place, as Jepsen
 * does. Every write and cas writes a value never written before, so the checker can tell
 * writes apart. Clients talk to random replicas, or with `failover` each to one replica until it
 * fails them (endpoint-picker.ts). Reads use `readConsistency` (`?consistency=`).
 */
import type { Rng } from '../../protocols/common/rng.js';
import type { HistoryRecorder, OpF, OpValue } from '../chaos/history.js';
import { FailoverPicker, leavesReplica, RandomPicker, type EndpointPicker } from './endpoint-picker.js';
import { performOp, type KvOp, type KvOutcome, type ReadConsistency } from './kv-op.js';

export interface OpMix {
  read: number;
  write: number;
  cas: number;
  delete: number;
}

export const defaultMix: OpMix = { read: 4, write: 3, cas: 2, delete: 1 };

export interface WorkloadOptions {
  /** Replica HTTP base URLs (a function: they can change on restart). */
  urls: () => Array<{ id: string; url: string }>;
  recorder: HistoryRecorder;
  rng: Rng;
  clients?: number;
  keys?: number;
  mix?: OpMix;
  /** Target operations per second over all clients; 0 for as fast as they go. */
  ratePerSec?: number;
  timeoutMs?: number;
  /** `?consistency=` of every read (default linearizable). */
  readConsistency?: ReadConsistency;
  /** Clients that leave a replica after a timeout, a refused connection or 503 (endpoint-picker.ts). */
  failover?: boolean;
  /** For tests: replace the HTTP call. */
  perform?: (url: string, op: KvOp, timeoutMs: number) => Promise<KvOutcome>;
}

export interface WorkloadStats {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
  processes: number;
}

export function parseMix(text: string): OpMix {
  const mix: OpMix = { read: 0, write: 0, cas: 0, delete: 0 };
  for (const part of text.split(',')) {
    const [name, weight] = part.split(':');
    if (name === undefined || !(name in mix) || weight === undefined || !(Number(weight) >= 0)) {
      throw new Error(`bad --mix ${JSON.stringify(text)}: expected e.g. read:4,write:3,cas:2,delete:1`);
    }
    mix[name as OpF] = Number(weight);
  }
  if (mix.read + mix.write + mix.cas + mix.delete <= 0) throw new Error('--mix needs a positive weight');
  return mix;
}

export class Workload {
  readonly stats: WorkloadStats = { invoked: 0, ok: 0, fail: 0, info: 0, processes: 0 };
  private running = false;
  private loops: Array<Promise<void>> = [];
  private nextProcess = 0;
  private valueSeq = 0;
  private readonly keys: string[];
  /** Last value seen per key (written ok or read ok): what cas expects. */
  private readonly lastSeen = new Map<string, string | null>();
  private readonly sleepers = new Set<() => void>();
  private readonly o: Required<Omit<WorkloadOptions, 'perform'>> & Pick<WorkloadOptions, 'perform'>;

  constructor(options: WorkloadOptions) {
    this.o = {
      clients: 10,
      keys: 5,
      mix: defaultMix,
      ratePerSec: 200,
      timeoutMs: 3000,
      readConsistency: 'linearizable',
      failover: false,
      ...options,
    };
    this.keys = Array.from({ length: this.o.keys }, (_, i) => `k${i + 1}`);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.o.clients; i++) this.loops.push(this.clientLoop(this.o.rng.fork()));
  }

  /** Stop issuing operations and wait for the open ones to complete (at most their timeout). */
  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.sleepers) wake();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** A gray-listed replica is avoided for twice the operation timeout (at least 5 s). */
  private picker(rng: Rng): EndpointPicker {
    return this.o.failover ? new FailoverPicker(rng.fork(), Math.max(5000, 2 * this.o.timeoutMs)) : new RandomPicker(rng);
  }

  private async clientLoop(rng: Rng): Promise<void> {
    let process = this.nextProcess++;
    this.stats.processes++;
    const picker = this.picker(rng);
    const intervalMs = this.o.ratePerSec > 0 ? (1000 * this.o.clients) / this.o.ratePerSec : 0;
    // Spread the clients' first operations over one interval.
    let nextAtMs = performance.now() + rng.next() * intervalMs;
    while (this.running) {
      if (intervalMs > 0) {
        await this.sleep(nextAtMs - performance.now());
        if (!this.running) break;
        nextAtMs = Math.max(performance.now(), nextAtMs + intervalMs * (0.5 + rng.next()));
      }
      const outcome = await this.one(process, rng, picker);
      if (outcome === 'info') {
        process = this.nextProcess++;
        this.stats.processes++;
      }
    }
  }

  private async one(process: number, rng: Rng, picker: EndpointPicker): Promise<'ok' | 'fail' | 'info'> {
    const op = this.nextOp(rng);
    const target = picker.pick(this.o.urls(), performance.now());
    const { recorder } = this.o;
    recorder.record({ process, type: 'invoke', f: op.f, key: op.key, value: op.value, time: recorder.now(), node: target.id });
    this.stats.invoked++;
    let outcome: KvOutcome;
    try {
      outcome =
        this.o.perform !== undefined
          ? await this.o.perform(target.url, op, this.o.timeoutMs)
          : await performOp(target.url, op, { timeoutMs: this.o.timeoutMs, consistency: this.o.readConsistency });
    } catch (err) {
      outcome = { type: 'info', value: op.value, error: (err as Error).message };
    }
    const done = { process, type: outcome.type, f: op.f, key: op.key, value: outcome.value, time: recorder.now(), node: target.id };
    recorder.record(outcome.error === undefined ? done : { ...done, error: outcome.error });
    this.stats[outcome.type]++;
    if (outcome.type === 'ok') this.observe(op, outcome.value);
    if (leavesReplica(outcome.error)) picker.failed(target.id, performance.now());
    return outcome.type;
  }

  private nextOp(rng: Rng): KvOp {
    const key = this.keys[rng.int(this.keys.length)]!;
    const f = pick(this.o.mix, rng);
    switch (f) {
      case 'read':
        return { f, key, value: null };
      case 'delete':
        return { f, key, value: null };
      case 'write':
        return { f, key, value: this.freshValue() };
      case 'cas':
        return { f, key, value: [this.lastSeen.get(key) ?? null, this.freshValue()] };
    }
  }

  private observe(op: KvOp, result: OpValue): void {
    if (op.f === 'read') this.lastSeen.set(op.key, result as string | null);
    else if (op.f === 'write') this.lastSeen.set(op.key, op.value as string);
    else if (op.f === 'cas') this.lastSeen.set(op.key, (op.value as [string | null, string])[1]);
    else this.lastSeen.set(op.key, null);
  }

  /** Unique over the whole run, hence per key. */
  private freshValue(): string {
    return String(++this.valueSeq);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

function pick(mix: OpMix, rng: Rng): OpF {
  const total = mix.read + mix.write + mix.cas + mix.delete;
  let x = rng.next() * total;
  for (const f of ['read', 'write', 'cas', 'delete'] as const) {
    x -= mix[f];
    if (x < 0) return f;
  }
  return 'read';
}
