/**
 * Tuning in typed sections (docs/design.md §5.2). A protocol's settings come in two sections:
 * `core`, what its pure core reads (handed to the core whole, and nothing else is), and
 * `runtime`, what only the replica process reads (ticks in real time, deadlines, admission,
 * snapshot files). The cluster file writes both side by side in one flat section per protocol
 * (`raft`, `multipaxos`, `pbft`); `splitTuning` sorts each key it knows into its section, by key
 * lists that the compiler checks against the two section types. So a setting added to a runtime
 * section cannot reach a core by accident, and a setting a core gains must be listed before the
 * tree compiles again.
 */

/** The settings of one protocol, in the two sections. */
export interface TuningSections<Core extends object, Runtime extends object> {
  core: Core;
  runtime: Runtime;
}

/** A protocol's section of the cluster file: every key of both sections, side by side, each optional. */
export type FileTuning<T extends TuningSections<object, object>> = Partial<T['core'] & T['runtime']>;

/**
 * Every key of a section, each once. A Record over `keyof T`: the compiler refuses a list that
 * misses a key of T, optional ones included, or names a key T does not have.
 */
export type SectionKeys<T extends object> = Record<keyof T, true>;

/** What every runtime reads, whatever its protocol. */
export interface RuntimeTuning {
  /** Milliseconds of real time per core tick. */
  tickMs: number;
  /** A client request not answered by then gets 504 TIMEOUT. */
  requestTimeoutMs: number;
  /** Client requests waiting in this replica; beyond it clients get 429 OVERLOADED. */
  maxPendingRequests: number;
}

export const runtimeTuningKeys: SectionKeys<RuntimeTuning> = { tickMs: true, requestTimeoutMs: true, maxPendingRequests: true };

/**
 * The defaults, overridden by what the cluster file's section sets, sorted into the sections.
 * A key the file sets to a value, even `undefined`, replaces the default (as an object spread
 * would); a key neither section lists is ignored.
 */
export function splitTuning<Core extends object, Runtime extends object>(
  defaults: TuningSections<Core, Runtime>,
  keys: TuningSections<SectionKeys<Core>, SectionKeys<Runtime>>,
  file: Partial<Core & Runtime> | undefined,
): TuningSections<Core, Runtime> {
  return { core: section(defaults.core, keys.core, file), runtime: section(defaults.runtime, keys.runtime, file) };
}

function section<T extends object>(defaults: T, keys: SectionKeys<T>, file: object | undefined): T {
  const merged = { ...defaults } as Record<string, unknown>;
  const given = (file ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(keys)) if (Object.hasOwn(given, key)) merged[key] = given[key];
  // Every key of T is in `keys` (SectionKeys), and each holds the default or the file's value.
  return merged as T;
}
