/**
 * PBFT checkpoint cost against state size (issue 13, "PBFT checkpoints digest the whole state";
 * TOCS 2002 §6.2.1). Times the core's checkpoint (the incremental digest: dirty tree paths, plus
 * what it keeps copy-on-write) and making it stable (the records of the keys changed since), with
 * the same number of changed keys per interval at 10k, 100k and 1M keys. For comparison, the old
 * checkpoint: encode the whole state and digest it.
 *
 *   node --import tsx bench/pbft-checkpoint-cost.ts [--changed 128] [--intervals 40]
 */
import { createHash } from 'node:crypto';
import { encodeValue } from '../protocols/pbft/canonical.js';
import { ServiceState } from '../protocols/pbft/service-state.js';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const CHANGED = arg('changed', 128);
const INTERVALS = arg('intervals', 40);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const value = 'v'.repeat(256);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function measure(keys: number): { checkpoint: number; stable: number; old: number } {
  const state = new ServiceState(sha256);
  const records: Array<[string, unknown]> = [];
  for (let k = 0; k < keys; k++) records.push([`d/key-${k}`, value]);
  state.load(0, records);
  const checkpointMs: number[] = [];
  const stableMs: number[] = [];
  let seq = 0;
  let x = 12345;
  for (let i = 1; i <= INTERVALS; i++) {
    for (let c = 0; c < CHANGED; c++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      state.apply({ op: 'put', key: `key-${x % keys}`, value: `${value}${i}` }, { clientId: 'bench', seq: ++seq });
    }
    const t0 = performance.now();
    state.checkpoints.checkpoint(i);
    const t1 = performance.now();
    state.stabilize(i);
    const t2 = performance.now();
    checkpointMs.push(t1 - t0);
    stableMs.push(t2 - t1);
  }
  // The old checkpoint (before issue 13): the whole state encoded and digested, once.
  const t0 = performance.now();
  const data: Array<[string, string]> = [];
  for (let k = 0; k < keys; k++) data.push([`key-${k}`, value]);
  sha256(encodeValue({ data, sessions: [] }));
  const old = performance.now() - t0;
  return { checkpoint: median(checkpointMs), stable: median(stableMs), old };
}

console.log(`PBFT checkpoint cost, ${CHANGED} changed keys per interval (256 B values), median of ${INTERVALS} intervals`);
console.log('| keys | checkpoint (digest + copy-on-write) ms | stable (records of changed keys) ms | old: encode + digest whole state ms |');
console.log('| ---: | ---: | ---: | ---: |');
for (const keys of [10_000, 100_000, 1_000_000]) {
  const r = measure(keys);
  console.log(`| ${keys.toLocaleString('en')} | ${r.checkpoint.toFixed(3)} | ${r.stable.toFixed(3)} | ${r.old.toFixed(1)} |`);
}
