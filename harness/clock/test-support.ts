/**
 * For tests that need libfaketime: they skip where it is missing, with the reason, except where
 * FAULTS_REQUIRED=1 (CI, .ci/run), where a missing libfaketime is a failure.
 */
import type { Test } from 'tap';
import { faketimeMissing } from './faketime-lib.js';

/** True when the caller may go on; otherwise `t` (with nothing run in it yet) is skipped or failed. */
export function needFaketime(t: Test): boolean {
  const missing = faketimeMissing();
  if (missing === null) return true;
  if (process.env['FAULTS_REQUIRED'] === '1') t.fail(`FAULTS_REQUIRED=1 but ${missing}`);
  else t.plan(0, `skipped: clock faults need libfaketime: ${missing}`);
  return false;
}
