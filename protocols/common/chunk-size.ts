/**
 * How large the next append-only byte chunk is, for the stores that copy commands off the
 * JavaScript heap (protocols/raft/entry-columns.ts, protocols/multipaxos/command-chunks.ts):
 * chunks start small (a test replica stays small) and double up to 1 MiB; bytes that need more
 * get a chunk of exactly their size.
 */
const FIRST_CHUNK_BYTES = 4 * 1024;
const MAX_CHUNK_BYTES = 1024 * 1024;

/** The size of the chunk after one of `previous` bytes (none yet: undefined) that must hold `need`. */
export function nextChunkBytes(previous: number | undefined, need: number): number {
  const grown = previous === undefined ? FIRST_CHUNK_BYTES : Math.min(MAX_CHUNK_BYTES, previous * 2);
  return Math.max(need, grown);
}
