/**
 * The linearizability checker's API for the harness (README.md in this folder):
 * `checkHistory(events, { timeoutMs })`, and the two history readers.
 */
export { checkHistory } from './check-history.js';
export type {
  CheckOptions,
  CheckResult,
  CheckStats,
  KeyResult,
  OperationReport,
  PrefixStep,
  StuckOperation,
  Verdict,
  Violation,
} from './check-history.js';
export { formatResult } from './format-result.js';
export { HistoryError, isClientEvent, parseHistoryJsonl } from './history.js';
export type { CasValue, EventType, EventValue, HistoryEvent, NemesisEvent, OpName, ParsedHistory } from './history.js';
export { parseJepsenEdn, SINGLE_REGISTER_KEY } from './jepsen-edn.js';
