/**
 * `npm run bench:parts`: what two hand-written pieces of the request path save against the
 * libraries they stand in for, in ns per request:
 * - the request-duration histogram (src/metrics/histogram.ts) against prom-client's
 *   Histogram with a bound child (`labels()` kept), one observation per request;
 * - the log line's timestamp cached per millisecond (src/logger.ts) against pino's
 *   `stdTimeFunctions.isoTime`, one call per request line.
 * Each pair is timed interleaved, 5 rounds of 2M calls, medians printed. The end-to-end
 * effect is in the README (interleaved `npm run bench` hot runs with and without them).
 */
import { Histogram, Registry } from 'prom-client';
import pino from 'pino';
import { createHotHistogram } from '../../src/metrics/histogram';
import { isoTimeCachedPerMs } from '../../src/logger';
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
  const pairs: Array<[string, (i: number) => void, (i: number) => void]> = [
    ['histogram observe: prom-client vs hand-written', (i) => library.observe((i % 100) * 1e-4), (i) => hand.observe((i % 100) * 1e-4)],
    ['log timestamp: pino isoTime vs cached per ms', () => void pino.stdTimeFunctions.isoTime(), () => void cachedTime()],
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
