import os from 'node:os';
import path from 'node:path';

/**
 * The whole configuration surface of the service. This is the only module that reads
 * `process.env`; everything else receives a `Config` (or a slice of it) as an argument.
 */
export interface Config {
  /** Public HTTP port. */
  port: number;
  /** Interface the public port binds to. */
  host: string;
  /** Connection string of the primary database; `undefined` means "start an embedded PostgreSQL". */
  databaseUrl: string | undefined;
  /** Streaming replicas documents are read from in turn (the primary while none answers); may be empty. */
  databaseReplicaUrls: readonly string[];
  /** Where the embedded PostgreSQL keeps its cluster (only used when `databaseUrl` is unset). */
  embeddedPgDir: string;
  /** Loopback TCP port of the embedded PostgreSQL. */
  embeddedPgPort: number;
  /** The embedded server's shared_buffers, in MiB. */
  embeddedPgSharedBuffersMb: number;
  /** Products in the built-in sample loaded into an empty embedded catalog; 0 disables it. */
  sampleProducts: number;
  /** HTTP worker processes forked by the primary. */
  workers: number;
  /** Database connections per worker. */
  pgPoolMax: number;
  /** Document batch statements a worker has in flight at once (at most pgPoolMax). */
  pgDocumentReads: number;
  /** Longest wait for a pooled connection before the request gets a 503, in ms. */
  pgConnectTimeoutMs: number;
  /** Document reads per worker that may wait for a connection; beyond it a miss gets an immediate 503. */
  pgQueueMax: number;
  /** Server-side statement timeout for document reads, in ms. */
  pgStatementTimeoutMs: number;
  /** Byte budget of each worker's document cache. */
  cacheMaxBytes: number;
  /** Lifetime of a cached document, in seconds. */
  cacheTtlSeconds: number;
  /** Lifetime of a cached "no such product" answer, in seconds. */
  cacheNotFoundTtlSeconds: number;
  /** A document is cached at its 1st read, or (2) once the cache is full at its 2nd within the doorkeeper's window (src/catalog/doorkeeper.ts). */
  cacheAdmitAfter: 1 | 2;
  /** A document is compressed (br or gzip, as asked) at its Nth request wanting that coding; 0 never compresses. */
  compressAfterRequests: number;
  /** Most compressions a worker starts per second. */
  compressMaxPerSecond: number;
  compressMaxInFlight: number;
  /** `Cache-Control: max-age` sent with every 200 document, in seconds. */
  httpMaxAgeSeconds: number;
  /** Origins whose pages may call the API from the browser (CORS): every one (`'*'`), or these exactly. */
  corsAllowOrigins: CorsOrigins;
  /** pino level. */
  logLevel: LogLevel;
  /** Time the primary gives in-flight requests to finish on SIGTERM/SIGINT, in ms. */
  shutdownTimeoutMs: number;
  /** Port of the Prometheus scrape endpoint (`/metrics`, served by the primary); 0 disables metrics. */
  metricsPort: number;
  /** Interface the metrics port binds to. */
  metricsHost: string;
}

/** `'*'`, or serialised origins as browsers send them in `Origin` (`https://shop.example:8443`). */
export type CorsOrigins = '*' | readonly string[];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Raised when one or more settings are invalid; the message names every bad key. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the configuration. Pass an explicit `env` in tests; the default is
 * the process environment. Throws one `ConfigError` listing every invalid key.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${key} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  };

  const databaseUrl = env.DATABASE_URL === '' ? undefined : env.DATABASE_URL;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }

  // Comma-separated; replicas of an embedded database cannot exist, so they need DATABASE_URL.
  const databaseReplicaUrls = (env.DATABASE_REPLICA_URLS ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (databaseReplicaUrls.some((u) => !/^postgres(ql)?:\/\//.test(u))) {
    problems.push('DATABASE_REPLICA_URLS must be a comma-separated list of postgres:// or postgresql:// URLs');
  } else if (databaseReplicaUrls.length > 0 && databaseUrl === undefined) {
    problems.push('DATABASE_REPLICA_URLS needs DATABASE_URL (the primary the replicas stream from)');
  }

  const corsAllowOrigins = parseCorsOrigins('CORS_ALLOW_ORIGINS', env.CORS_ALLOW_ORIGINS, problems);

  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${env.LOG_LEVEL}")`);
  }

  const config: Config = {
    // 3000: the port the replaced Products API listened on.
    port: int('PORT', 3000, 0, 65535),
    // All interfaces, as a container needs; set 127.0.0.1 for a loopback-only fleet member.
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    // None: every read goes to the primary.
    databaseReplicaUrls,
    // Under the working directory, so `npm start` keeps its catalog between runs.
    embeddedPgDir: path.resolve(env.EMBEDDED_PG_DIR || '.data/pg'),
    // Not 5432, so it never collides with a system PostgreSQL.
    embeddedPgPort: int('EMBEDDED_PG_PORT', 54329, 1, 65535),
    // A quarter of the machine's memory, at most 2 GiB (PostgreSQL's own advice is a quarter):
    // the full catalog's documents are 1.7 GB, and cold styles reads were faster from
    // PostgreSQL's buffers than through the page cache (README, Performance).
    embeddedPgSharedBuffersMb: int('EMBEDDED_PG_SHARED_BUFFERS_MB', Math.min(2048, Math.floor(os.totalmem() / 4 / 2 ** 20)), 16, 1024 * 1024),
    // A few thousand products: enough to browse, loaded in about a second.
    sampleProducts: int('SAMPLE_PRODUCTS', 5000, 0, 1_000_000),
    // One worker per core the process may use.
    workers: int('WORKERS', os.availableParallelism(), 1, 256),
    // 8 per worker: documents are single index lookups, so a few connections saturate a core.
    pgPoolMax: int('PG_POOL_MAX', 8, 1, 1000),
    // 2 per worker: while they are busy, misses gather into the next batch. More statements
    // of fewer documents cost the database more per document: with 2 workers on 2 cores,
    // 8 served 25–33 % fewer uncached documents a second than 2 (README, Performance).
    pgDocumentReads: int('PG_DOCUMENT_READS', 2, 1, 1000),
    // 2 s: a client should get a fast 503 rather than queue behind a dead database.
    pgConnectTimeoutMs: int('PG_CONNECT_TIMEOUT_MS', 2000, 1, 60_000),
    // 256: with PG_POOL_MAX, bounds the uncached documents a worker waits on at once (264):
    // the PG_DOCUMENT_READS batches of up to 64 in flight and two more waiting, 2.5–5 ms of
    // the database's own rate (pgbench: 49–105k documents/s). 64 held less than the two
    // batches in flight: cold page views at a constant 80 % of capacity got 0–5,824 503s of
    // 44,000 requests and p99 50–398 ms, against 0–13 and 35–67 ms with 256 (README, Reliability).
    pgQueueMax: int('PG_QUEUE_MAX', 256, 0, 100_000),
    // 5 s: a document read takes well under a millisecond; anything this slow is a fault.
    pgStatementTimeoutMs: int('PG_STATEMENT_TIMEOUT_MS', 5000, 1, 600_000),
    // 128 MiB per worker.
    cacheMaxBytes: int('CACHE_MAX_BYTES', 128 * 1024 * 1024, 1024, 64 * 1024 ** 3),
    // 5 min: reloads invalidate explicitly, so the TTL only bounds staleness after a missed notice.
    cacheTtlSeconds: int('CACHE_TTL_SECONDS', 300, 1, 7 * 86_400),
    // 10 s: long enough to absorb a flood of unknown ids, short enough for new products to appear.
    cacheNotFoundTtlSeconds: int('CACHE_NOT_FOUND_TTL_SECONDS', 10, 1, 86_400),
    // 2: a full cache keeps only documents asked for again, so one-off reads (a crawl, cold
    // traffic) neither cost an insertion nor evict what comes back (README, Performance); 1:
    // every read is kept.
    cacheAdmitAfter: int('CACHE_ADMIT_AFTER', 2, 1, 2) as 1 | 2,
    // 2: at the first request that comes back for it (the first cache hit wanting the coding);
    // served compressed from the next. 1 (at the miss) cut cold styles to 0.62× of identity's
    // rate; 3 left 22 % of the hot page-view bytes identity (README, Compression).
    compressAfterRequests: int('COMPRESS_AFTER_REQUESTS', 2, 0, 1_000_000),
    // 1000 a second per worker: a bound on what compression can take from traffic whose
    // documents come back once and then never (a crawl); brotli 5 is about 45 µs a styles
    // document on its thread, plus copies and the cache update on the event loop.
    compressMaxPerSecond: int('COMPRESS_MAX_PER_SECOND', 1000, 1, 1_000_000),
    // 8 a worker on libuv's thread pool (4 threads) at once: what makes the rate above reachable.
    // With 2, a compression's trip through the pool and back to a busy event loop took ~9 ms,
    // so hot traffic got about 225 a second per worker, far under the rate bound.
    compressMaxInFlight: int('COMPRESS_MAX_IN_FLIGHT', 8, 1, 64),
    // 60 s of browser/CDN caching.
    httpMaxAgeSeconds: int('HTTP_MAX_AGE_SECONDS', 60, 0, 31_536_000),
    // '*': the catalog is public and takes no cookies, so any storefront page may read it.
    corsAllowOrigins,
    logLevel,
    // 8 s: inside the 10 s an orchestrator waits before SIGKILL.
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 8000, 100, 120_000),
    // 9464: the usual port of a service's own Prometheus endpoint (OpenTelemetry's default).
    metricsPort: int('METRICS_PORT', 9464, 0, 65535),
    // Loopback: metrics reveal internals and are never public. A Prometheus on another host
    // needs METRICS_HOST=0.0.0.0 (or a private interface) plus a firewall rule for that port.
    metricsHost: env.METRICS_HOST || '127.0.0.1',
  };

  if (config.pgDocumentReads > config.pgPoolMax) {
    problems.push(`PG_DOCUMENT_READS must not exceed PG_POOL_MAX (${config.pgPoolMax}): each statement needs a connection`);
  }
  if (config.metricsPort !== 0 && config.metricsPort === config.port) {
    problems.push('METRICS_PORT must differ from PORT: metrics are never served on the public port');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * CORS_ALLOW_ORIGINS (and the fleet's --cors-allow-origins, named `name`): unset, empty or
 * `*` for every origin; else a comma-separated list of origins, each exactly as a browser
 * serialises it (scheme, lower-case host, port only when not the scheme's default, no path),
 * since `Origin` is compared byte for byte. A problem is pushed onto `problems`.
 */
export function parseCorsOrigins(name: string, raw: string | undefined, problems: string[]): CorsOrigins {
  const entries = (raw ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
  if (entries.length === 0 || (entries.length === 1 && entries[0] === '*')) return '*';
  const bad = entries.flatMap((entry) => {
    if (entry === '*') return ['"*" cannot be combined with origins'];
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      // Not a URL at all: reported below.
    }
    if (origin === entry) return [];
    return [`"${entry}" is not an origin${origin === undefined ? ' (http:// or https:// URL)' : `; did you mean "${origin}"?`}`];
  });
  if (bad.length > 0) {
    problems.push(`${name} must be * or a comma-separated list of origins like https://shop.example: ${bad.join(', ')}`);
    return '*';
  }
  return Object.freeze([...new Set(entries)]);
}

/**
 * The environment for a child process this one starts (a fleet instance): this process's
 * own environment with `overrides` applied. Kept here so that only this module reads it.
 */
export function childEnv(overrides: Readonly<Record<string, string>>): Record<string, string | undefined> {
  return { ...process.env, ...overrides };
}
