/**
 * Which key each request touches. Every request draws its own key, so that no single hot key
 * flatters (cache hits, batching on one key) or hurts (conflicts) any system.
 */
export type Distribution = 'uniform' | 'zipfian';

export interface KeyChooser {
  /** An index in [0, keys). */
  next(): number;
}

/** YCSB's default skew: a few keys are very hot, most are cold. */
export const zipfianTheta = 0.99;

export function keyName(index: number): string {
  return `k${String(index).padStart(7, '0')}`;
}

/** A deterministic value of exactly `bytes` ASCII bytes (the CAS workload needs to know it). */
export function valueOf(bytes: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < bytes; i++) s += alphabet[i % alphabet.length];
  return s;
}

export function keyChooser(distribution: Distribution, keys: number, random: () => number = Math.random): KeyChooser {
  if (!Number.isInteger(keys) || keys < 1) throw new Error(`keys must be a positive integer, got ${keys}`);
  if (distribution === 'uniform') return { next: () => Math.floor(random() * keys) };
  return zipfian(keys, zipfianTheta, random);
}

/**
 * Gray et al., "Quickly generating billion-record synthetic databases" (SIGMOD '94), as in YCSB's
 * ZipfianGenerator; ranks are then scrambled through a fixed permutation so that the hot keys
 * are spread over the key space instead of being k0000000, k0000001, ...
 */
function zipfian(n: number, theta: number, random: () => number): KeyChooser {
  let zetan = 0;
  for (let i = 1; i <= n; i++) zetan += 1 / Math.pow(i, theta);
  const zeta2 = 1 + 1 / Math.pow(2, theta);
  const alpha = 1 / (1 - theta);
  const eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / zetan);
  const permutation = seededPermutation(n, 0x9e3779b9);
  return {
    next: () => {
      const u = random();
      const uz = u * zetan;
      let rank: number;
      if (uz < 1) rank = 0;
      else if (uz < 1 + Math.pow(0.5, theta)) rank = 1;
      else rank = Math.min(n - 1, Math.floor(n * Math.pow(eta * u - eta + 1, alpha)));
      return permutation[rank]!;
    },
  };
}

function seededPermutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let s = seed >>> 0;
  const rand = (): number => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return p;
}
