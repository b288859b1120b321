/**
 * The leaf partitions of the replicated state (Castro and Liskov, TOCS 2002 §6.2: the state is
 * split into partitions, the leaves of the partition tree, each with its own digest).
 *
 * Leaves 0 .. BUCKETS-1 are the key-value data, one per bucket of protocols/kv/bucketed-map.ts
 * (a key's partition is its bucket). The last SESSION_PARTITIONS leaves hold the client sessions
 * (protocols/kv/sessions.ts), which are replicated state too: they decide which retried request
 * gets a stored reply and which session expires. A session's place in the least-recently-used
 * order is kept as a stamp (the number of session updates up to its last one), so the order is
 * part of what is digested and can be rebuilt from the partitions alone.
 *
 * A partition's digest is the AdHash (adhash.ts) of its items: one item per key-value pair, and
 * per session one item for its header (max seq, stamp) plus one per stored result, so that one
 * request changes O(1) items whatever the sizes involved.
 */
import type { KvResult } from '../kv/commands.js';
import { BUCKETS, bucketOf } from '../kv/bucketed-map.js';
import { adhashAdd, adhashRemove, itemHash } from './adhash.js';

export const DATA_PARTITIONS = BUCKETS;
export const SESSION_PARTITIONS = 64;
export const PARTITIONS = DATA_PARTITIONS + SESSION_PARTITIONS;

/** A session as a partition holds it: highest seq applied, LRU stamp, its window of results. */
export type SessionValue = [maxSeq: number, stamp: number, results: Array<[number, KvResult]>];
export type PartitionValue = string | SessionValue;
/** One entry of a partition: a key and its value, or a client id and its session. */
export type PartitionEntry = [key: string, value: PartitionValue];

type Digest = (bytes: Uint8Array) => string;

export const dataPartition = (key: string): number => bucketOf(key);

/** BUCKETS is a multiple of SESSION_PARTITIONS, so this spreads client ids like bucketOf does. */
export const sessionPartition = (clientId: string): number => DATA_PARTITIONS + (bucketOf(clientId) % SESSION_PARTITIONS);

export const isSessionPartition = (p: number): boolean => p >= DATA_PARTITIONS;

/** The AdHash `sum` of partition p after `key` changed from `before` to `after` (undefined: absent). */
export function rehash(digest: Digest, sum: bigint, p: number, key: string, before: PartitionValue | undefined, after: PartitionValue | undefined): bigint {
  if (typeof before === 'string' || typeof after === 'string') {
    if (before !== undefined) sum = adhashRemove(sum, itemHash(digest, ['d', p, key, before]));
    if (after !== undefined) sum = adhashAdd(sum, itemHash(digest, ['d', p, key, after]));
    return sum;
  }
  return rehashSession(digest, sum, p, key, before, after);
}

/** A session's header item and only the results that came or went (usually one of each). */
function rehashSession(digest: Digest, sum: bigint, p: number, id: string, before: SessionValue | undefined, after: SessionValue | undefined): bigint {
  const had = new Set<number>();
  const has = new Set<number>();
  for (const [seq] of before?.[2] ?? []) had.add(seq);
  for (const [seq] of after?.[2] ?? []) has.add(seq);
  if (before !== undefined) {
    sum = adhashRemove(sum, itemHash(digest, ['h', p, id, before[0], before[1]]));
    for (const [seq, r] of before[2]) if (!has.has(seq)) sum = adhashRemove(sum, itemHash(digest, ['r', p, id, seq, r]));
  }
  if (after !== undefined) {
    sum = adhashAdd(sum, itemHash(digest, ['h', p, id, after[0], after[1]]));
    for (const [seq, r] of after[2]) if (!had.has(seq)) sum = adhashAdd(sum, itemHash(digest, ['r', p, id, seq, r]));
  }
  return sum;
}

/** A partition's AdHash from scratch (a fetched partition, a restart): O(its entries). */
export function partitionHash(digest: Digest, p: number, entries: Iterable<PartitionEntry>): bigint {
  let sum = 0n;
  for (const [key, value] of entries) sum = rehash(digest, sum, p, key, undefined, value);
  return sum;
}

/**
 * True when `entry` may belong to partition p: the right shape, and the key hashes to p. A
 * fetched partition is checked with this before its digest is computed (a Byzantine replica
 * may send anything); the digest then decides whether it is the certified content.
 */
export function fitsPartition(p: number, entry: unknown): entry is PartitionEntry {
  if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') return false;
  const [key, value] = entry as [string, unknown];
  if (!isSessionPartition(p)) return typeof value === 'string' && dataPartition(key) === p;
  if (sessionPartition(key) !== p || !Array.isArray(value) || value.length !== 3) return false;
  const [maxSeq, stamp, results] = value as unknown[];
  return Number.isSafeInteger(maxSeq) && Number.isSafeInteger(stamp) && Array.isArray(results) && results.every(isResultEntry);
}

function isResultEntry(r: unknown): boolean {
  return Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && typeof r[1] === 'object' && r[1] !== null && typeof (r[1] as { kind?: unknown }).kind === 'string';
}

/**
 * A partition as it travels in a state transfer: a list of items, each at most one value or one
 * result big, so a chunk of `maxTransferBytes` passes it by at most one item (message-bounds.ts).
 * Data: [key, value]. Sessions: ['h', id, maxSeq, stamp] then ['r', id, seq, result] per result.
 */
export function toWireItems(p: number, entries: readonly PartitionEntry[]): unknown[] {
  if (!isSessionPartition(p)) return entries as unknown[];
  const items: unknown[] = [];
  for (const [id, value] of entries) {
    const [maxSeq, stamp, results] = value as SessionValue;
    items.push(['h', id, maxSeq, stamp]);
    for (const [seq, r] of [...results].sort(([a], [b]) => a - b)) items.push(['r', id, seq, r]);
  }
  return items;
}

/** The entries back from wire items, or null if they cannot be partition p's (then: invalid). */
export function fromWireItems(p: number, items: readonly unknown[]): PartitionEntry[] | null {
  if (!isSessionPartition(p)) return items.every((e) => fitsPartition(p, e)) ? (items as PartitionEntry[]) : null;
  const sessions = new Map<string, SessionValue>();
  for (const item of items) {
    if (!Array.isArray(item) || item.length !== 4 || typeof item[1] !== 'string') return null;
    const [tag, id, a, b] = item as [unknown, string, unknown, unknown];
    const s = sessions.get(id);
    if (tag === 'h' && s === undefined) sessions.set(id, [a as number, b as number, []]);
    else if (tag === 'r' && s !== undefined) s[2].push([a as number, b as KvResult]);
    else return null;
  }
  const entries = [...sessions];
  return entries.every((e) => fitsPartition(p, e)) ? entries : null;
}
