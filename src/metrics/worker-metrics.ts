import { collectDefaultMetrics, Counter, Gauge, type Registry } from 'prom-client';
import type { CacheStats } from '../catalog/cache';
import { createHotHistogram, type HistogramChild } from './histogram';
import { createHttpMetrics, type RequestObserver } from './http';

/** The counts a pg.Pool exposes (a structural slice, so tests can pass a real pool or a view of one). */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Typed handles on one worker's metrics. */
export interface WorkerMetrics {
  http: RequestObserver;
  /** Matches `DocumentStoreOptions.onFetch`: one document's database read (its batch), in seconds. */
  observeFetch(kind: string, seconds: number): void;
  /** Reports this cache's counters at every scrape. */
  watchCache(stats: () => CacheStats, maxBytes: number): void;
  /** Reports this pool's clients at every scrape. */
  watchPool(pool: PoolCounts, maxClients: number): void;
}

// Seconds. A document read is one index lookup (~0.2 ms); the tail up to the 5 s statement
// timeout is kept so a struggling database shows up as a shift, not as +Inf.
const FETCH_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Creates every metric a worker exposes in `registry` (never the global one), including
 * prom-client's process defaults (event-loop lag, heap, GC, CPU, handles).
 */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const fetch = createHotHistogram(registry, {
    name: 'atelier_db_fetch_duration_seconds',
    help: 'Time a missed document (or page) waited on PostgreSQL: its batched read, one observation per document, by kind.',
    labelNames: ['kind'] as const,
    buckets: FETCH_BUCKETS,
  });
  const fetchChildren = new Map<string, HistogramChild>();

  // A gauge showing `read` of the watched source at each scrape; nothing until one is watched.
  const watchedGauge = <T>(source: () => T | undefined, name: string, help: string, read: (s: T) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = source();
        if (s !== undefined) this.set(read(s));
      },
    });
  };

  let cacheStats: (() => CacheStats) | undefined;
  let cacheMaxBytes = 0;
  const cache = (): CacheStats | undefined => cacheStats?.();
  // Counters mirror the cache's own cumulative counts at scrape time (no hot-path cost).
  const cacheCounter = (name: string, help: string, read: (s: CacheStats) => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        if (cacheStats === undefined) return;
        this.reset();
        this.inc(read(cacheStats()));
      },
    });
  };
  cacheCounter('atelier_cache_hits_total', 'Document cache lookups answered from memory (documents and cached 404s).', (s) => s.hits);
  cacheCounter('atelier_cache_misses_total', 'Document cache lookups that went to the database (or joined a load in progress).', (s) => s.misses);
  cacheCounter('atelier_cache_evictions_total', 'Documents evicted to stay within the cache byte budget (not expiries, not clears).', (s) => s.evictions);
  cacheCounter('atelier_cache_compressions_total', 'Compressed representations of hot documents stored, one per document and coding.', (s) => s.compressions);
  cacheCounter('atelier_cache_refreshes_total', 'Documents read again in the background ahead of their expiry, while still served from the cache.', (s) => s.refreshes);
  cacheCounter('atelier_cache_refused_total', 'Documents read and not cached: asked for once within the doorkeeper window (CACHE_ADMIT_AFTER=2).', (s) => s.refused);
  cacheCounter('atelier_cache_compression_failures_total', 'Compressions of a document that failed (it stays identity, retried later).', (s) => s.compressionFailures);
  watchedGauge(cache, 'atelier_cache_size_bytes', 'Bytes the document cache holds: bodies plus per-entry bookkeeping.', (s) => s.bytes);
  watchedGauge(cache, 'atelier_cache_entries', 'Entries in the document cache, documents and cached 404s.', (s) => s.entries);
  watchedGauge(() => cacheMaxBytes, 'atelier_cache_max_bytes', 'Bytes the cached documents may fill: their share of CACHE_MAX_BYTES, the rest is room for the garbage collector.', (max) => max);

  let pool: PoolCounts | undefined;
  let poolMax = 0;
  const poolNow = (): PoolCounts | undefined => pool;
  watchedGauge(poolNow, 'atelier_pg_pool_clients', 'Open connections in the database pool, busy or idle.', (p) => p.totalCount);
  watchedGauge(poolNow, 'atelier_pg_pool_idle_clients', 'Open connections in the database pool waiting for work.', (p) => p.idleCount);
  watchedGauge(poolNow, 'atelier_pg_pool_waiting_requests', 'Queries queued for a database connection because the pool is exhausted.', (p) => p.waitingCount);
  watchedGauge(() => poolMax, 'atelier_pg_pool_max_clients', 'Largest number of connections the database pool may open.', (max) => max);

  return {
    http: createHttpMetrics(registry),
    observeFetch(kind, seconds) {
      let child = fetchChildren.get(kind);
      if (child === undefined) fetchChildren.set(kind, (child = fetch.child({ kind })));
      child.observe(seconds);
    },
    watchCache(stats, maxBytes) {
      cacheStats = stats;
      cacheMaxBytes = maxBytes;
    },
    watchPool(p, maxClients) {
      pool = p;
      poolMax = maxClients;
    },
  };
}
