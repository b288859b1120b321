import pino, { type Logger } from 'pino';

/** JSON-lines logs with the replica id and protocol on every line (docs/design.md §3.9). */
export function createLogger(id: string, protocol: string, level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, base: { id, protocol }, timestamp: pino.stdTimeFunctions.isoTime });
}
