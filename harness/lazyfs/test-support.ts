/**
 * For test files that need the power-loss filesystem: whether it can run here. Elsewhere they
 * skip with the reason, except when FAULTS_REQUIRED=1 (CI: .ci/run installs fuse3, libfuse3-dev,
 * pkg-config and gcc), where the missing piece is a failure.
 */
import type { Test } from 'tap';
import { ensureLazyFs, LazyFsUnavailable } from './build.js';

export const faultsRequired = process.env['FAULTS_REQUIRED'] === '1';

/** Null when the filesystem is usable (built if needed), else why not. */
export async function lazyFsUnavailableReason(): Promise<string | null> {
  try {
    await ensureLazyFs();
    return null;
  } catch (err) {
    if (err instanceof LazyFsUnavailable) return err.message;
    throw err; // a build error is a failure everywhere
  }
}

/** True when the test can go on; otherwise it is skipped (or, in CI, failed) with the reason. Call first. */
export async function requireLazyFs(t: Test): Promise<boolean> {
  const reason = await lazyFsUnavailableReason();
  if (reason === null) return true;
  if (faultsRequired) t.fail(`FAULTS_REQUIRED=1 but ${reason}`);
  else t.plan(0, `skipped: ${reason}`);
  return false;
}
