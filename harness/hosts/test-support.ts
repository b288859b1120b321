/**
 * For tests that need hosts with their own network: they skip where root or the tools are
 * missing, with the reason, except where FAULTS_REQUIRED=1 (CI, .ci/run), where that is a failure.
 */
import type { Test } from 'tap';
import { netnsMissing } from './host-tools.js';

/** True when the caller may go on; otherwise `t` (with nothing run in it yet) is skipped or failed. */
export function needNetns(t: Test): boolean {
  const missing = netnsMissing();
  if (missing === null) return true;
  if (process.env['FAULTS_REQUIRED'] === '1') t.fail(`FAULTS_REQUIRED=1 but ${missing}`);
  else t.plan(0, `skipped: ${missing}`);
  return false;
}
