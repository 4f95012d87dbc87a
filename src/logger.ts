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

/** Writes one request line: what `child.info({ reqId, status, ms })` writes. */
export type RequestLineWriter = (reqId: string, status: number, ms: number) => void;

type Internals = Record<symbol, unknown>;

/**
 * The request line of `child` written by string concatenation into its destination: the
 * bytes `child.info({ reqId, status, ms })` writes (test/logger.test.ts holds them equal),
 * for about a third of pino's CPU (`npm run bench:parts`: pino's general path walks the
 * object's keys, checks serializers and escapes each string). Undefined when `child` was
 * configured with anything that changes those bytes (a mixin, a log formatter, serializers or
 * redaction of these keys, a nested key, a stream write hook, a stream that wants metadata):
 * then use `child.info`.
 *
 * `reqId` is written as is: the caller passes only ids without characters JSON escapes.
 */
export function requestLineWriter(child: Logger): RequestLineWriter | undefined {
  const s = pino.symbols;
  const own = child as unknown as Internals;
  const formatters = own[s.formattersSym] as { log?: unknown } | undefined;
  const serializers = (own[s.serializersSym] ?? {}) as Record<string, unknown>;
  const stringifiers = (own[s.stringifiersSym] ?? {}) as Record<string | symbol, unknown>;
  const hooks = own[s.hooksSym] as { streamWrite?: unknown } | undefined;
  const stream = own[s.streamSym] as (DestinationStream & Internals) | undefined;
  const levels = own[s.lsCacheSym] as Record<number, string> | undefined;
  const time = own[s.timeSym] as (() => string) | undefined;
  const chindings = own[s.chindingsSym];
  const exact =
    own[s.mixinSym] === undefined &&
    own[s.nestedKeySym] === null &&
    formatters?.log === undefined &&
    hooks?.streamWrite === undefined &&
    ['reqId', 'status', 'ms'].every((key) => serializers[key] === undefined && stringifiers[key] === undefined) &&
    stringifiers[s.wildcardFirstSym] === undefined &&
    stream !== undefined &&
    stream[s.needsMetadataGsym] !== true &&
    typeof levels?.[30] === 'string' &&
    typeof time === 'function' &&
    typeof chindings === 'string' &&
    own[s.endSym] === '}\n';
  if (!exact) return undefined;
  const start = levels[30];
  return (reqId, status, ms) => {
    stream.write(`${start}${time.call(child)}${chindings},"reqId":"${reqId}","status":${status},"ms":${ms}}\n`);
  };
}
