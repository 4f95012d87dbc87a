import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

export interface LoggerOptions {
  level: LogLevel;
  /** Extra fields on every line (e.g. the worker id). */
  base?: Record<string, unknown>;
  /** Where lines go; default: stdout, buffered. */
  destination?: DestinationStream;
}

/**
 * The one logger factory. Lines are JSON on stdout; writes are buffered (4 KiB) and
 * asynchronous so per-request logging stays off the hot path. Call `flush()` on exit.
 */
export function createLogger(opts: LoggerOptions): Logger {
  let destination = opts.destination;
  if (destination === undefined) {
    const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    // Under light traffic the buffer fills slowly: flush at least once a second.
    setInterval(() => stdout.flush(), 1000).unref();
    destination = stdout;
  }
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid, ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
