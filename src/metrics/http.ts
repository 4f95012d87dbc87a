import { Counter, Gauge, type Registry } from 'prom-client';
import { createHotHistogram, type HistogramChild } from './histogram';

/** What the request-log middleware reports about every request. */
export interface RequestObserver {
  /** A request entered the application. */
  started(): void;
  /**
   * The request finished. `route` is the router's template (`/products/:product_id`),
   * undefined when no route matched; `seconds` is the time spent in the application.
   */
  finished(route: string | undefined, method: string, status: number, seconds: number): void;
  /**
   * A document body went out: `bytes` on the wire in content coding `encoding`, `identityBytes`
   * its size uncompressed (the two are equal for identity).
   */
  sent(encoding: 'br' | 'gzip' | 'identity', bytes: number, identityBytes: number): void;
}

// Seconds. A document is served from memory in well under a millisecond and from the
// database in about one; 25 ms is the p99 objective, so the buckets are dense around it.
export const REQUEST_DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

// Requests no route matched share one label value, so scanners cannot create series.
export const UNMATCHED_ROUTE = 'unmatched';
// Node accepts a few dozen methods; only the ones this API serves get their own label.
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']);
const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * The HTTP metrics of one worker: a duration histogram by route template, method and
 * status class, and the number of requests in flight.
 *
 * Hot path: each label combination's child is bound once and kept in nested maps, so a
 * request costs two map lookups and one observation, with nothing allocated.
 */
export function createHttpMetrics(registry: Registry): RequestObserver {
  let inFlight = 0;
  const duration = createHotHistogram(registry, {
    name: 'atelier_http_request_duration_seconds',
    help: 'Time from a request entering the application to its response being ready, by route template, method and status class.',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
  });
  new Gauge({
    name: 'atelier_http_requests_in_flight',
    help: 'Requests inside the application right now.',
    registers: [registry],
    // Read at scrape time: the hot path only bumps a number.
    collect() {
      this.set(inFlight);
    },
  });

  // Bytes by coding, kept as plain numbers and read at scrape time (no hot-path cost).
  const sent = { br: 0, gzip: 0, identity: 0 };
  const uncompressed = { br: 0, gzip: 0, identity: 0 };
  const bytesCounter = (name: string, help: string, source: Record<keyof typeof sent, number>): void => {
    new Counter({
      name,
      help,
      labelNames: ['encoding'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [encoding, bytes] of Object.entries(source)) this.inc({ encoding }, bytes);
      },
    });
  };
  bytesCounter('atelier_http_response_bytes_total', 'Document body bytes sent, by content coding (br, gzip, identity).', sent);
  bytesCounter(
    'atelier_http_response_uncompressed_bytes_total',
    'The identity size of the document bodies sent, by the content coding they were sent in: divided by atelier_http_response_bytes_total, the compression ratio.',
    uncompressed,
  );

  const children = new Map<string, Map<string, Array<HistogramChild | undefined>>>();

  const childFor = (route: string, method: string, statusClass: number): HistogramChild => {
    let byMethod = children.get(route);
    if (byMethod === undefined) children.set(route, (byMethod = new Map()));
    let byClass = byMethod.get(method);
    if (byClass === undefined) byMethod.set(method, (byClass = []));
    let child = byClass[statusClass];
    if (child === undefined) {
      child = duration.child({ route, method, status_class: STATUS_CLASSES[statusClass] ?? 'other' });
      byClass[statusClass] = child;
    }
    return child;
  };

  return {
    started() {
      inFlight++;
    },
    finished(route, method, status, seconds) {
      inFlight--;
      const cls = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
      childFor(route ?? UNMATCHED_ROUTE, KNOWN_METHODS.has(method) ? method : 'OTHER', cls).observe(seconds);
    },
    sent(encoding, bytes, identityBytes) {
      sent[encoding] += bytes;
      uncompressed[encoding] += identityBytes;
    },
  };
}
