/**
 * The client-visible error codes of the HTTP API (docs/design.md §4.2). Every error body is
 * `{"error": {"code", "message", ...details}}`.
 */
export const errorStatus = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  CAS_MISMATCH: 409,
  PAYLOAD_TOO_LARGE: 413,
  OVERLOADED: 429,
  INTERNAL: 500,
  NO_LEADER: 503,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** Seconds, for the retry-after header of NO_LEADER and OVERLOADED. */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }

  get status(): number {
    return errorStatus[this.code];
  }

  body(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/**
 * Thrown by a replica that is not the leader; the HTTP layer forwards the request to
 * `leader` (when known) instead of answering it.
 */
export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  constructor(readonly leader: string | null) {
    super(leader === null ? 'no leader is known' : `the leader is ${leader}`);
  }
}
