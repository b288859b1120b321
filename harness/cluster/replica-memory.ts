/**
 * How the harness starts a replica process so that it holds little memory beyond its state (issue
 * 13: RSS per replica ≤ 250 MB with 100,000 keys of 256 B; docs/design.md §3.10). Measured on the
 * soak (bench/README.md), about a third of a replica's resident set was glibc's malloc heap,
 * holding far more than Node's external memory.
 *
 * LevelDB, libuv's thread pool and Node's ArrayBuffers allocate through glibc malloc. By default
 * glibc raises its mmap threshold each time a large block is freed (mallopt(3), M_MMAP_THRESHOLD),
 * so later 1 MiB buffers (snapshot chunks, peer frames) come from the heap, and what they leave
 * free there stays resident. Fixed thresholds (the MALLOC_*_ environment variables) keep blocks
 * above 128 KiB mmap'ed, given back at free, and trim the heap's free top; two arenas instead of
 * eight per core serve the thread pool.
 *
 * Variables already set in the harness's environment win, so a run can try other values.
 */

const MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/** `env` with the malloc settings added where it does not set them itself. */
export function withReplicaMallocEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...MALLOC_ENV, ...env };
}

/**
 * V8 collects its old generation once it has grown to a multiple of what survived the last full
 * collection. The multiple is V8's own choice, up to 4, and on the soak a replica whose live heap
 * was about 85 MB (a heap snapshot: the state machine and a log of 50,000 entries) had a 210 MB
 * heap. `--heap-growing-percent` caps the multiple at 1 + percent/100. The price is more full
 * collections, so the value is a trade measured on the soak (bench/README.md "Memory").
 */
export const REPLICA_V8_FLAGS: readonly string[] = ['--heap-growing-percent=50'];

/**
 * The V8 flags a replica starts with: REPLICA_V8_FLAGS, or those of
 * CONSENSUS_LAB_REPLICA_V8_FLAGS where it is set (empty for V8's defaults), so a run can try others.
 */
export function replicaV8Flags(env: NodeJS.ProcessEnv = process.env): string[] {
  const set = env['CONSENSUS_LAB_REPLICA_V8_FLAGS'];
  return set === undefined ? [...REPLICA_V8_FLAGS] : set.split(/\s+/).filter((f) => f !== '');
}
