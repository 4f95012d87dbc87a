import fs from 'node:fs';
import pg from 'pg';
import { rssBytes, type Service } from './processes';

/** The service's resources at one moment, as an operator would read them. */
export interface SoakSample {
  /** Epoch ms. */
  at: number;
  /** The primary's live workers (pgrep -P), each with its resident set (VmRSS) in MiB. */
  workers: Array<{ pid: number; rssMb: number }>;
  /** nodejs_heap_size_used_bytes of the service's /metrics (the primary sums its workers'), in MiB; NaN when it did not answer. */
  heapUsedMb: number;
  /**
   * The service's own request durations so far (atelier_http_request_duration_seconds, every
   * route, method and status summed): [upper bound in s, cumulative count], by bound; empty
   * when /metrics did not answer. Counted from each request's parse to its answer.
   */
  requestBuckets: Array<[number, number]>;
  /** Entries of /proc/PID/fd of the primary and its workers. */
  fds: number;
  /** The service's own PostgreSQL sessions (worker pools, listeners, the primary's metrics client); NaN when PostgreSQL did not answer. */
  pgService: number;
  /** Every session of the catalog's database but the sampler's own (an ETL's included); NaN likewise. */
  pgAll: number;
}

// A sample must not hang the soak on a stuck endpoint or a database that is away, in ms.
const METRICS_TIMEOUT_MS = 5_000;
const PG_CONNECT_TIMEOUT_MS = 2_000;
const PG_QUERY_TIMEOUT_MS = 5_000;
// The service's sessions by application_name (src/cluster/worker.ts, src/postgres/listener.ts,
// src/metrics/cluster-metrics.ts); an ETL's are "atelier-products etl …" and are not the service's.
const SERVICE_SESSIONS = '^atelier-products (worker|listener|metrics)';
const SAMPLER_NAME = 'atelier-bench soak sampler';

const MIB = 2 ** 20;

function openFds(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0; // exited meanwhile
  }
}

const HEAP_USED = /^nodejs_heap_size_used_bytes (\S+)$/m;
const DURATION_BUCKET = /^atelier_http_request_duration_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm;

/** The heap and the request-duration buckets from one exposition text (see SoakSample). */
export function readExposition(text: string): Pick<SoakSample, 'heapUsedMb' | 'requestBuckets'> {
  const byBound = new Map<number, number>();
  for (const [, le, count] of text.matchAll(DURATION_BUCKET)) {
    const bound = le === '+Inf' ? Infinity : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + Number(count));
  }
  const heap = HEAP_USED.exec(text);
  return {
    heapUsedMb: heap ? Number(heap[1]) / MIB : NaN,
    requestBuckets: [...byBound].sort(([a], [b]) => a - b),
  };
}

async function fromMetrics(service: Service): Promise<Pick<SoakSample, 'heapUsedMb' | 'requestBuckets'>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), METRICS_TIMEOUT_MS)));
  try {
    const text = await Promise.race([service.metricsText().catch(() => undefined), timeout]);
    return text === undefined ? { heapUsedMb: NaN, requestBuckets: [] } : readExposition(text);
  } finally {
    clearTimeout(timer);
  }
}

async function sessions(databaseUrl: string): Promise<{ service: number; total: number }> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: SAMPLER_NAME,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    query_timeout: PG_QUERY_TIMEOUT_MS,
  });
  // A server that goes away mid-query: the query rejects; the event must not crash the bench.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ service: number; total: number }>(
      `SELECT count(*) FILTER (WHERE application_name ~ $1)::int AS service, count(*)::int AS total
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      [SERVICE_SESSIONS],
    );
    return rows[0] ?? { service: NaN, total: NaN };
  } catch {
    return { service: NaN, total: NaN };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Reads the service's workers' RSS, its heap, descriptors and database sessions now. */
export async function takeSample(service: Service, databaseUrl: string): Promise<SoakSample> {
  const at = Date.now();
  const workerPids = service.workerPids();
  const workers = workerPids.map((pid) => ({ pid, rssMb: rssBytes(pid) / MIB }));
  const fds = [service.pid, ...workerPids].reduce((sum, pid) => sum + openFds(pid), 0);
  const [metrics, pg] = await Promise.all([fromMetrics(service), sessions(databaseUrl)]);
  return { at, workers, ...metrics, fds, pgService: pg.service, pgAll: pg.total };
}
