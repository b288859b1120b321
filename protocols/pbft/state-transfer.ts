/**
 * State transfer (TOCS §6.2, simplified): a replica that is behind fetches (1) the state of a
 * stable checkpoint, chunk by chunk, checked against the digest that 2f+1 signed Checkpoints
 * certify, and (2) the committed batches after it, accepting a batch for n only once f+1
 * distinct replicas reported the same digest (one of them is correct, and correct replicas
 * executed the same batch at n).
 */
import type { Batch, Checkpoint } from './types.js';

export class StateAssembly {
  readonly chunks = new Map<number, Uint8Array>();
  total: number | null = null;
  chunksAtLastRetransmit = -1;
  /** Chunks below this were asked for; the next window is asked once they are all in. */
  requestedUpTo = 0;

  constructor(
    readonly sequence: number,
    readonly digest: string,
    readonly proof: Checkpoint[],
    public source: number,
  ) {}

  /** Records a chunk; false when the sender's chunk count disagrees (then start over). */
  add(chunk: number, chunks: number, bytes: Uint8Array): boolean {
    if (this.total !== null && this.total !== chunks) {
      this.reset();
      return false;
    }
    this.total = chunks;
    if (chunk < chunks) this.chunks.set(chunk, bytes);
    return true;
  }

  firstMissing(): number {
    let k = 0;
    while (this.chunks.has(k)) k++;
    return k;
  }

  complete(): boolean {
    return this.total !== null && this.chunks.size === this.total;
  }

  assemble(): Uint8Array {
    let length = 0;
    for (const c of this.chunks.values()) length += c.length;
    const out = new Uint8Array(length);
    let offset = 0;
    for (let k = 0; k < (this.total ?? 0); k++) {
      const c = this.chunks.get(k) as Uint8Array;
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }

  reset(): void {
    this.chunks.clear();
    this.total = null;
  }
}

/** Splits checkpoint state bytes into chunks of at most `max` bytes (at least one chunk). */
export function chunkCount(length: number, max: number): number {
  return Math.max(1, Math.ceil(length / max));
}

export function chunkAt(bytes: Uint8Array, chunk: number, max: number): Uint8Array {
  return bytes.subarray(chunk * max, Math.min(bytes.length, (chunk + 1) * max));
}

/** f+1 matching reports of the batch committed at n (TOCS §6.2: "f+1 ... same digest"). */
export class BatchVotes {
  private readonly votes = new Map<number, Map<string, { voters: Set<number>; batch: Batch }>>();

  constructor(private readonly needed: number) {}

  add(sequence: number, digest: string, batch: Batch, from: number): void {
    let byDigest = this.votes.get(sequence);
    if (byDigest === undefined) {
      byDigest = new Map();
      this.votes.set(sequence, byDigest);
    }
    for (const [d, v] of byDigest) if (d !== digest && v.voters.has(from)) return; // one vote per replica
    const entry = byDigest.get(digest) ?? { voters: new Set<number>(), batch };
    entry.voters.add(from);
    byDigest.set(digest, entry);
  }

  decided(sequence: number): { digest: string; batch: Batch } | null {
    const byDigest = this.votes.get(sequence);
    if (byDigest === undefined) return null;
    for (const [digest, v] of byDigest) if (v.voters.size >= this.needed) return { digest, batch: v.batch };
    return null;
  }

  discardUpTo(sequence: number): void {
    for (const n of this.votes.keys()) if (n <= sequence) this.votes.delete(n);
  }

  get size(): number {
    return this.votes.size;
  }
}
