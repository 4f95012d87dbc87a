import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';
import { createLineBuffer } from './log-buffer';

export interface LoggerOptions {
  level: LogLevel;
  /** Extra fields on every line (e.g. the worker id). */
  base?: Record<string, unknown>;
  /** Where lines go; default: stdout, buffered. */
  destination?: DestinationStream;
}

/**
 * pino's timestamp field, ISO 8601 in UTC. Formatting a date costs about 0.5 µs; at thousands
 * of lines a second most lines share their millisecond with the previous one and reuse it.
 */
export function isoTimeCachedPerMs(): () => string {
  let lastMs = -1;
  let field = '';
  return () => {
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      field = `,"time":"${new Date(now).toISOString()}"`;
    }
    return field;
  };
}

/**
 * The one logger factory. Lines are JSON on stdout, gathered to 4 KiB (about 20 request lines)
 * and then written synchronously (src/log-buffer.ts): one write(2) per 4 KiB, and a stalled
 * log reader slows the worker instead of growing its memory. Call `flush()` on exit.
 */
export function createLogger(opts: LoggerOptions): Logger {
  let destination = opts.destination;
  if (destination === undefined) {
    const stdout = createLineBuffer(1, 4096);
    // Under light traffic the buffer fills slowly: flush at least once a second.
    setInterval(() => stdout.flush(), 1000).unref();
    destination = stdout;
  }
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid, ...opts.base },
      timestamp: isoTimeCachedPerMs(),
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
