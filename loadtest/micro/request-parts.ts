/**
 * `npm run bench:parts`: what two hand-written pieces of the request path save against the
 * libraries they stand in for, in ns per request:
 * - the request-duration histogram (src/metrics/histogram.ts) against prom-client's
 *   Histogram with a bound child (`labels()` kept), one observation per request;
 * - the log line's timestamp cached per millisecond (src/logger.ts) against pino's
 *   `stdTimeFunctions.isoTime`, one call per request line;
 * - the log destination (src/log-buffer.ts) against pino's own (sonic-boom, synchronous, the
 *   same 4 KiB batches), one request line each, written to /dev/null so the syscalls count
 *   but no disk does;
 * - the request line written by concatenation (src/logger.ts requestLineWriter) against
 *   pino's `child.info({ reqId, status, ms })`, the same bytes, into a destination that
 *   drops them.
 * Each pair is timed interleaved, 5 rounds of 2M calls, medians printed. The end-to-end
 * effect of the first two is in the README (interleaved `npm run bench` hot runs with and
 * without them); the last two's has not been measured in complete runs.
 */
import { Histogram, Registry } from 'prom-client';
import fs from 'node:fs';
import pino from 'pino';
import { createLineBuffer } from '../../src/log-buffer';
import { createHotHistogram } from '../../src/metrics/histogram';
import { createLogger, isoTimeCachedPerMs, requestLineWriter } from '../../src/logger';
import { REQUEST_DURATION_BUCKETS } from '../../src/metrics/http';

const CALLS = 2_000_000;
const ROUNDS = 5;
const labels = { route: '/products/:product_id/styles', method: 'GET', status_class: '2xx' } as const;

/** ns per call of `op`. */
function timed(op: (i: number) => void): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) op(i);
  return Number(process.hrtime.bigint() - started) / CALLS;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const library = new Histogram({ name: 'a_seconds', help: 'a', labelNames: ['route', 'method', 'status_class'], buckets: REQUEST_DURATION_BUCKETS, registers: [new Registry()] }).labels(labels);
  const hand = createHotHistogram(new Registry(), { name: 'b_seconds', help: 'b', labelNames: ['route', 'method', 'status_class'], buckets: REQUEST_DURATION_BUCKETS }).child(labels);
  const cachedTime = isoTimeCachedPerMs();
  const devNull = fs.openSync('/dev/null', 'w');
  const sonic = pino.destination({ dest: devNull, minLength: 4096, sync: true });
  const lineBuffer = createLineBuffer(devNull, 4096);
  const ids = Array.from({ length: 1024 }, (_, i) => `6c8f2f4e-2b7a-4c1e-9a57-${String(i).padStart(12, '0')}`);
  const reqId = (i: number): string => ids[i & 1023]!;
  // Request lines as the service writes them (src/http/request-log.ts), ~215 bytes, made up
  // front so only the destination is timed.
  const lines = ids.map(
    (id, i) =>
      `{"level":"info","time":"2026-12-07T17:00:00.${String(i % 1000).padStart(3, '0')}Z","pid":4242,"worker":1,"method":"GET","route":"/products/:product_id/styles","reqId":"${id}","status":200,"ms":0.${i % 1000}}\n`,
  );
  const line = (i: number): string => lines[i & 1023]!;
  const child = createLogger({ level: 'info', base: { worker: 1 }, destination: { write: () => undefined } }).child({ method: 'GET', route: '/products/:product_id/styles' });
  const writeLine = requestLineWriter(child);
  if (writeLine === undefined) throw new Error('the service logger has no request line writer');
  const pairs: Array<[string, (i: number) => void, (i: number) => void]> = [
    ['histogram observe: prom-client vs hand-written', (i) => library.observe((i % 100) * 1e-4), (i) => hand.observe((i % 100) * 1e-4)],
    ['log timestamp: pino isoTime vs cached per ms', () => void pino.stdTimeFunctions.isoTime(), () => void cachedTime()],
    ['request line: pino child.info vs concatenated', (i) => child.info({ reqId: reqId(i), status: 200, ms: (i % 1000) / 1e3 }), (i) => writeLine(reqId(i), 200, (i % 1000) / 1e3)],
    ['log destination: sonic-boom vs line buffer', (i) => void sonic.write(line(i)), (i) => void lineBuffer.write(line(i))],
  ];
  for (const [name, a, b] of pairs) {
    const as: number[] = [];
    const bs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      as.push(timed(a));
      bs.push(timed(b));
    }
    process.stdout.write(`${name}: ${median(as).toFixed(0)} ns vs ${median(bs).toFixed(0)} ns per request\n`);
  }
}

if (require.main === module) main();
