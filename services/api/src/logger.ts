/** Structured JSON logs (pino) to stdout, one line per event, request ids included by the HTTP layer. */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '@stagecraft/contract';

export type { Logger };

export function createLogger(level: LogLevel, service = 'api'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
