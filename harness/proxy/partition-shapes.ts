/**
 * Partition shapes (Jepsen's nemesis vocabulary) as pure functions: each returns the groups
 * of nodes and the set of directed links to cut. A shape only says who can talk to whom; the
 * proxy decides how a cut link behaves (blackhole or refuse).
 */
import type { Rng } from '../../protocols/common/rng.js';

export type ShapeName = 'isolate' | 'halves' | 'bridge' | 'ring';

export interface PartitionShape {
  name: ShapeName;
  /** Human-readable description for the history and the report, e.g. "n1 | n2 n3". */
  description: string;
  /** Directed links [from, to] that are cut. */
  cut: Array<[string, string]>;
}

/** Cut every link between nodes that may not talk; `connected(a, b)` must be symmetric. */
function fromRelation(name: ShapeName, description: string, ids: readonly string[], connected: (a: string, b: string) => boolean): PartitionShape {
  const cut: Array<[string, string]> = [];
  for (const a of ids) for (const b of ids) if (a !== b && !connected(a, b)) cut.push([a, b]);
  return { name, description, cut };
}

/** Separate groups: nodes talk only within their own group (nodes in no group are alone). */
export function groups(ids: readonly string[], parts: readonly (readonly string[])[], name: ShapeName = 'halves'): PartitionShape {
  const groupOf = new Map<string, number>();
  parts.forEach((part, i) => part.forEach((id) => groupOf.set(id, i)));
  const description = parts.map((p) => p.join(' ')).join(' | ');
  return fromRelation(name, description, ids, (a, b) => groupOf.has(a) && groupOf.get(a) === groupOf.get(b));
}

/** One node alone, the rest together (also "isolate the leader", given the leader's id). */
export function isolate(ids: readonly string[], node: string): PartitionShape {
  return groups(ids, [[node], ids.filter((id) => id !== node)], 'isolate');
}

/** A random minority and majority: ⌊(n-1)/2⌋ nodes on one side, the rest on the other. */
export function halves(ids: readonly string[], rng: Rng): PartitionShape {
  const order = shuffle(ids, rng);
  const minority = Math.floor((ids.length - 1) / 2);
  return groups(ids, [order.slice(0, Math.max(1, minority)), order.slice(Math.max(1, minority))], 'halves');
}

/**
 * Two halves that can only reach each other through one bridge node, which sees everyone
 * (Jepsen's "bridge"): both halves plus the bridge are majorities, a classic for split brain.
 */
export function bridge(ids: readonly string[], rng: Rng): PartitionShape {
  const order = shuffle(ids, rng);
  const via = order[0]!;
  const rest = order.slice(1);
  const a = new Set(rest.slice(0, Math.ceil(rest.length / 2)));
  const b = rest.filter((id) => !a.has(id));
  const side = (id: string) => (id === via ? 0 : a.has(id) ? 1 : 2);
  return fromRelation('bridge', `${[...a].join(' ')} <${via}> ${b.join(' ')}`, ids, (x, y) => {
    const sx = side(x);
    const sy = side(y);
    return sx === 0 || sy === 0 || sx === sy;
  });
}

/** Every node talks only to its two neighbours in a random ring (Jepsen's "majorities ring"). */
export function ring(ids: readonly string[], rng: Rng): PartitionShape {
  const order = shuffle(ids, rng);
  const n = order.length;
  const pos = new Map(order.map((id, i) => [id, i]));
  return fromRelation('ring', `ring ${order.join('-')}`, ids, (x, y) => {
    const d = Math.abs(pos.get(x)! - pos.get(y)!);
    return d <= 1 || d === n - 1;
  });
}

export function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The one-way variant of a shape: of its cut links, only those into `deaf` stay cut. A node in
 * `deaf` no longer hears the nodes it was cut from, and they still hear it: with deaf = [B] and
 * A→B cut, "A hears B, B does not hear A". The classic case is a leader that still sends its
 * heartbeats but hears no answer (Jepsen's one-way partitions; Raft dissertation §6.2's
 * CheckQuorum is the leader's defence).
 */
export function oneWay(shape: PartitionShape, deaf: readonly string[]): PartitionShape {
  const cut = shape.cut.filter(([, to]) => deaf.includes(to));
  return { name: shape.name, description: `${shape.description} (one-way: ${deaf.join(' ')} hear no one cut off)`, cut };
}
