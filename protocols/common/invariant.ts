/**
 * Invariant checks that stay on in production (docs/design.md §2.4). A broken invariant in a
 * consensus core means the replica can no longer be trusted, so it throws instead of logging.
 */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new InvariantError(typeof message === 'function' ? message() : message);
  }
}
