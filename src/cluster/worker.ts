import cluster from 'node:cluster';
import http from 'node:http';
import type { Logger } from 'pino';
import { createApp } from '../app';
import { readVersion } from '../version';
import { createDocumentStore } from '../catalog/documents';
import { createInvalidation } from '../catalog/invalidation';
import { compress } from '../catalog/compression';
import { documentBytes } from '../catalog/memory';
import type { Config } from '../config';
import { checkCatalogLoaded } from '../postgres/live-catalog';
import { createPool } from '../postgres/pool';
import { createReplicatedReads } from '../postgres/replicas';
import { listenForCatalogChanges } from '../postgres/listener';
import { createHttpServer } from '../http/server';
import { createLogger } from '../logger';
import { SHUTDOWN_MESSAGE } from './messages';
import { startWorkerMetrics } from '../metrics/worker-telemetry';

// Longest a starting worker waits for its replicas to be checked, and for its catalog listener
// to be LISTENing, in ms (both at once).
const REPLICA_CHECK_AT_START_MS = 3_000;

/** One HTTP worker: pool, cache, app and server; drains on SIGTERM/SIGINT or the primary's word. */
export async function runWorker(config: Config): Promise<void> {
  const workerId = cluster.worker?.id ?? 0;
  const log: Logger = createLogger({ level: config.logLevel, base: { worker: workerId } });
  if (config.databaseUrl === undefined) throw new Error('worker started without DATABASE_URL');

  const poolOptions = {
    max: config.pgPoolMax,
    connectTimeoutMs: config.pgConnectTimeoutMs,
    statementTimeoutMs: config.pgStatementTimeoutMs,
    applicationName: `atelier-products worker ${workerId}`,
    log,
  };
  const pool = createPool({ connectionString: config.databaseUrl, ...poolOptions });
  // Documents come from DATABASE_REPLICA_URLS in turn (the primary when none is set or up).
  const reads = createReplicatedReads(pool, config.databaseReplicaUrls, poolOptions);
  // The primary serves the metrics; with METRICS_PORT=0 nothing could read them.
  const metrics = config.metricsPort > 0 ? startWorkerMetrics() : undefined;
  const documentsMaxBytes = documentBytes(config.cacheMaxBytes);
  const documents = createDocumentStore({
    pool: reads,
    cacheMaxBytes: documentsMaxBytes,
    cacheTtlMs: config.cacheTtlSeconds * 1000,
    notFoundTtlMs: config.cacheNotFoundTtlSeconds * 1000,
    cacheAdmitAfter: config.cacheAdmitAfter,
    maxInFlight: config.pgPoolMax + config.pgQueueMax,
    maxConcurrentReads: config.pgDocumentReads,
    // A request finding every slot busy (or the rate spent) is answered as the document stands.
    compression: { compress, afterRequests: config.compressAfterRequests, maxInFlight: config.compressMaxInFlight, maxPerSecond: config.compressMaxPerSecond },
    onFetch: metrics?.observeFetch,
  });
  metrics?.watchCache(() => documents.cacheStats(), documentsMaxBytes);
  metrics?.watchPool(pool, config.pgPoolMax);
  const onCatalogNotice = createInvalidation({ documents, reads, primary: pool, log });
  const listener = listenForCatalogChanges({
    connectionString: config.databaseUrl,
    log,
    // Notices come from the primary: replicas are held back until they have replayed the
    // change (replicas.ts), so the cache is updated at once.
    onChange: (payload) => void onCatalogNotice(payload),
  });
  const app = createApp({
    log,
    documents,
    checkReady: () => checkCatalogLoaded(pool),
    version: readVersion(),
    httpMaxAgeSeconds: config.httpMaxAgeSeconds,
    corsAllowOrigins: config.corsAllowOrigins,
    metrics: metrics?.http,
  });

  const server = createHttpServer(app.callback());

  let draining = false;
  const drain = (reason: string): void => {
    if (draining) return;
    draining = true;
    log.info({ reason }, 'draining');
    const finish = (): void =>
      void Promise.allSettled([listener.close(), pool.end(), reads.end()]).then(async () => {
        // Every request is answered now: hand over the final counts so none is lost.
        await metrics?.sendFinal();
        log.info('worker stopped');
        log.flush(() => process.exit(0));
      });
    // Asked to stop before it ever listened (shutdown during start-up): nothing to drain.
    if (!server.listening) return finish();
    // Requests still arriving on kept-alive sockets are answered, then their socket closes.
    server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader('Connection', 'close'));
    const force = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    // Keep-alive sockets that finish their last response become idle after close(): sweep them.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      finish();
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => drain('SIGTERM'));
  process.on('SIGINT', () => drain('SIGINT'));
  process.on('message', (msg) => msg === SHUTDOWN_MESSAGE && drain('primary asked'));
  // If the primary dies, its IPC channel closes: a worker never outlives its primary.
  process.on('disconnect', () => drain('primary gone'));
  // Replicas checked first (bounded: a database that is down is met by 503s later), so the
  // first reads and the warm-up already go to them rather than to the primary; and the
  // listener LISTENing, so no change committed after the first read goes unheard (if it is
  // not in time, its first connect clears what was cached meanwhile: listener.ts).
  await Promise.all([reads.ready(REPLICA_CHECK_AT_START_MS), listener.ready(REPLICA_CHECK_AT_START_MS)]);
  await documents.warm(config.pgPoolMax);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
}
