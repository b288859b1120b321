import type { ReplicaDebugState } from './debug-state.js';

/**
 * What a replica runtime implements to be shown on the dashboard: its state in the debug API's
 * state protocol (debug-state.ts). Cheap to call a few times a second; never changes state.
 */
export interface DebugSource {
  debugState(): ReplicaDebugState;
}

export function isDebugSource(value: unknown): value is DebugSource {
  return typeof value === 'object' && value !== null && typeof (value as { debugState?: unknown }).debugState === 'function';
}
