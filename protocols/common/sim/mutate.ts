/**
 * Seeded structural mutation of protocol messages, for the fuzz tests (protocols/<p>/fuzz.test.ts):
 * take a real message, change one to three of its fields the way a buggy or Byzantine peer could
 * (numbers to 0, -1, 2^31, MAX_SAFE_INTEGER, off by one, another replica's index or far ahead;
 * strings to other values seen on the wire; arrays emptied, duplicated, truncated, reordered, or
 * spliced with entries of another message), and say what changed so a failure can be replayed.
 *
 * Pure and deterministic: every choice comes from the injected Rng (docs/design.md §2.3).
 */
import type { Rng } from '../rng.js';

type Path = Array<string | number>;

/** Values seen on the wire, by field name: "swap entries between messages" draws from here. */
export class MutationPool {
  private readonly byKey = new Map<string, unknown[]>();

  /** Records every field of `message` (and of nested objects) under its field name. */
  add(message: unknown): void {
    walk(message, [], (path, value) => {
      const key = String(path[path.length - 1] ?? '');
      const list = this.byKey.get(key) ?? [];
      if (list.length < 200) list.push(value);
      this.byKey.set(key, list);
    });
  }

  /** A value seen under field `key`, or undefined. */
  pick(key: string, rng: Rng): unknown {
    const list = this.byKey.get(key);
    return list === undefined || list.length === 0 ? undefined : list[rng.int(list.length)];
  }
}

export interface MutationOptions {
  rng: Rng;
  /** Replicas in the cluster (for "another replica's index"). */
  n: number;
  pool: MutationPool;
  /** Field names never changed (e.g. `type`, `auth`: the fuzzer re-seals the mutant). */
  frozen?: ReadonlySet<string>;
  /** How far ahead "far ahead" is (e.g. a watermark window). Default 1000. */
  far?: number;
}

export interface Mutant<T> {
  message: T;
  /** One line per change: `path: what`. */
  changes: string[];
}

/** A deep copy of `message` with 1..3 random fields changed. */
export function mutate<T>(message: T, options: MutationOptions): Mutant<T> {
  const copy = deepCopy(message);
  const changes: string[] = [];
  const count = 1 + options.rng.int(3);
  for (let k = 0; k < count; k++) {
    const paths: Path[] = [];
    walk(copy, [], (path) => {
      if (!path.some((p) => typeof p === 'string' && options.frozen?.has(p))) paths.push(path);
    });
    if (paths.length === 0) break;
    const path = paths[options.rng.int(paths.length)] as Path;
    const before = get(copy, path);
    const after = mutateValue(before, path, options);
    set(copy, path, after.value);
    changes.push(`${path.join('.') || '(root)'}: ${after.what}`);
  }
  return { message: copy, changes };
}

function mutateValue(value: unknown, path: Path, o: MutationOptions): { value: unknown; what: string } {
  const key = String(path[path.length - 1] ?? '');
  const donor = o.pool.pick(key, o.rng);
  if (typeof value === 'number') return mutateNumber(value, o, donor);
  if (typeof value === 'string') return mutateString(value, o, donor);
  if (typeof value === 'boolean') return { value: !value, what: `${value} -> ${!value}` };
  if (value instanceof Uint8Array) return mutateBytes(value, o);
  if (Array.isArray(value)) return mutateArray(value, o, donor);
  if (donor !== undefined && donor !== value) return { value: deepCopy(donor), what: `replaced by a ${key} seen elsewhere` };
  return { value, what: 'unchanged' };
}

function mutateNumber(x: number, o: MutationOptions, donor: unknown): { value: number; what: string } {
  const far = o.far ?? 1000;
  const choices: Array<[number, string]> = [
    [0, '0'],
    [-1, '-1'],
    [1, '1'],
    [2 ** 31, '2^31'],
    [2 ** 32 + 1, '2^32+1'],
    [Number.MAX_SAFE_INTEGER, 'MAX_SAFE_INTEGER'],
    [x + 1, '+1'],
    [x - 1, '-1 (off by one)'],
    [x + far, `+${far} (far ahead)`],
    [x - far, `-${far} (far behind)`],
    [x * 2 + 1, '*2+1'],
    [o.rng.int(o.n), 'another replica'],
    [o.n, 'n (one past the last replica)'],
  ];
  if (typeof donor === 'number') choices.push([donor, 'a value seen elsewhere']);
  const [value, what] = choices[o.rng.int(choices.length)] as [number, string];
  return { value, what: `${x} -> ${value} (${what})` };
}

function mutateString(s: string, o: MutationOptions, donor: unknown): { value: string; what: string } {
  const r = o.rng.int(4);
  if (r <= 1 && typeof donor === 'string') return { value: donor, what: `${short(s)} -> ${short(donor)} (seen elsewhere)` };
  if (r === 2) return { value: '', what: `${short(s)} -> ''` };
  const flipped = s.length === 0 ? 'x' : s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');
  return { value: flipped, what: `${short(s)} -> ${short(flipped)} (last char flipped)` };
}

function mutateBytes(b: Uint8Array, o: MutationOptions): { value: Uint8Array; what: string } {
  const r = o.rng.int(3);
  if (r === 0) return { value: new Uint8Array(0), what: 'bytes emptied' };
  if (r === 1) return { value: b.slice(0, Math.floor(b.length / 2)), what: 'bytes truncated' };
  const out = b.slice();
  const at = o.rng.int(out.length);
  if (out.length > 0) out[at] = (out[at] as number) ^ 0xff;
  return { value: out, what: 'one byte flipped' };
}

function mutateArray(a: unknown[], o: MutationOptions, donor: unknown): { value: unknown[]; what: string } {
  const copy = a.map(deepCopy);
  const at = copy.length === 0 ? 0 : o.rng.int(copy.length);
  switch (o.rng.int(8)) {
    case 0:
      return { value: [], what: `emptied (had ${a.length})` };
    case 1:
      return copy.length === 0 ? { value: copy, what: 'empty, unchanged' } : { value: [...copy, deepCopy(copy[at])], what: `entry ${at} duplicated` };
    case 2:
      return { value: copy.slice(0, Math.floor(copy.length / 2)), what: `truncated to ${Math.floor(copy.length / 2)}` };
    case 3:
      return { value: copy.reverse(), what: 'reversed' };
    case 4:
      copy.splice(at, 1);
      return { value: copy, what: `entry ${at} removed` };
    case 5:
      return Array.isArray(donor) ? { value: donor.map(deepCopy), what: `replaced by another message's (${donor.length} entries)` } : { value: [], what: 'emptied' };
    case 6: {
      const extra = Array.isArray(donor) && donor.length > 0 ? donor[o.rng.int(donor.length)] : undefined;
      return extra === undefined ? { value: copy, what: 'unchanged' } : { value: [...copy, deepCopy(extra)], what: "an entry of another message appended" };
    }
    default: {
      if (copy.length < 2) return { value: copy, what: 'unchanged' };
      const other = o.rng.int(copy.length);
      [copy[at], copy[other]] = [copy[other], copy[at]];
      return { value: copy, what: `entries ${at} and ${other} swapped` };
    }
  }
}

/** Visits every field below the root (depth-first), with its path. */
function walk(value: unknown, path: Path, visit: (path: Path, value: unknown) => void): void {
  if (path.length > 0) visit(path, value);
  if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) value.forEach((v, k) => walk(v, [...path, k], visit));
  else for (const [k, v] of Object.entries(value)) walk(v, [...path, k], visit);
}

function get(root: unknown, path: Path): unknown {
  let v = root as Record<string | number, unknown>;
  for (const p of path) v = v[p] as Record<string | number, unknown>;
  return v;
}

function set(root: unknown, path: Path, value: unknown): void {
  const parent = get(root, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = value;
}

export function deepCopy<T>(value: T): T {
  if (value instanceof Uint8Array) return value.slice() as T;
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [deepCopy(k), deepCopy(v)])) as T;
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = deepCopy(v);
    return out as T;
  }
  return value;
}

function short(s: string): string {
  return JSON.stringify(s.length > 20 ? `${s.slice(0, 17)}...` : s);
}

/** A mutant for a failure message: JSON with bytes shown as their length. */
export function describeMessage(message: unknown): string {
  return JSON.stringify(message, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v));
}
