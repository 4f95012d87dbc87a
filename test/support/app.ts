import pg from 'pg';
import { createApp } from '../../src/app';
import type { Clock } from '../../src/catalog/cache';
import { compress } from '../../src/catalog/compression';
import { createDocumentStore, type DocumentStore } from '../../src/catalog/documents';
import type { CorsOrigins } from '../../src/config';
import { checkCatalogLoaded } from '../../src/postgres/live-catalog';
import { serve } from './http';
import { memoryLogger } from './silent-logger';

/** The version test apps report on /healthz and /readyz. */
export const APP_VERSION = '0.0.0-test';

export interface RunningApp {
  url: string;
  pool: pg.Pool;
  documents: DocumentStore;
  logLines: () => Array<Record<string, unknown>>;
  /** Documents read from the database so far. */
  queries: () => number;
  /** Statements the document store sent so far (a batch of documents is one). */
  statements: () => number;
  close(): Promise<void>;
}

/** The real app over a real pool on `databaseUrl`, served on a free port. Counts document queries. */
export async function startApp(
  databaseUrl: string,
  opts: {
    cacheMaxBytes?: number;
    notFoundTtlMs?: number;
    connectTimeoutMs?: number;
    corsAllowOrigins?: CorsOrigins;
    /** As COMPRESS_AFTER_REQUESTS (default: the service's, 2). */
    compressAfterRequests?: number;
    /** The cache's clock (default `performance`): a test moves it by hand. */
    clock?: Clock;
  } = {},
): Promise<RunningApp> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: opts.connectTimeoutMs ?? 2000 });
  pool.on('error', () => undefined);
  let fetches = 0;
  let statements = 0;
  const documents = createDocumentStore({
    pool: {
      query: (config) => {
        statements++;
        return pool.query(config);
      },
    },
    cacheMaxBytes: opts.cacheMaxBytes ?? 16 * 1024 * 1024,
    cacheTtlMs: 60_000,
    notFoundTtlMs: opts.notFoundTtlMs ?? 10_000,
    onFetch: () => void fetches++,
    compression: { compress, afterRequests: opts.compressAfterRequests ?? 2, maxInFlight: 2, maxPerSecond: 1000 },
    clock: opts.clock,
  });
  const { log, lines } = memoryLogger();
  const app = createApp({
    log,
    documents,
    checkReady: () => checkCatalogLoaded(pool),
    version: APP_VERSION,
    httpMaxAgeSeconds: 60,
    corsAllowOrigins: opts.corsAllowOrigins ?? '*',
  });
  const server = await serve(app);
  return {
    url: server.url,
    pool,
    documents,
    logLines: lines,
    queries: () => fetches,
    statements: () => statements,
    async close() {
      await server.close();
      await pool.end();
    },
  };
}
