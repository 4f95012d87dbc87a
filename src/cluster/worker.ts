import cluster from 'node:cluster';
import http from 'node:http';
import type { Logger } from 'pino';
import { createApp } from '../app';
import { createDocumentStore } from '../catalog/documents';
import type { Config } from '../config';
import { checkCatalogLoaded } from '../db/catalog';
import { createPool } from '../db/pool';
import { listenForCatalogChanges } from '../db/listener';
import { createLogger } from '../logger';

/** Message the primary sends to ask a worker to drain and exit. */
export const SHUTDOWN_MESSAGE = 'atelier:shutdown';

/** Sets the server's timeouts so slow or idle clients cannot hold sockets forever. */
export function applyServerTimeouts(server: http.Server): void {
  // 65 s keep-alive: longer than nginx's upstream keepalive_timeout (60 s), so nginx
  // always closes first and never reuses a socket the service is closing.
  server.keepAliveTimeout = 65_000;
  // Headers must arrive within 10 s and a whole request within 30 s (slowloris).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
}

/** One HTTP worker: pool, cache, app and server; drains on SIGTERM/SIGINT or the primary's word. */
export async function runWorker(config: Config): Promise<void> {
  const workerId = cluster.worker?.id ?? 0;
  const log: Logger = createLogger({ level: config.logLevel, base: { worker: workerId } });
  if (config.databaseUrl === undefined) throw new Error('worker started without DATABASE_URL');

  const pool = createPool({
    connectionString: config.databaseUrl,
    max: config.pgPoolMax,
    connectTimeoutMs: config.pgConnectTimeoutMs,
    statementTimeoutMs: config.pgStatementTimeoutMs,
    applicationName: `atelier-products worker ${workerId}`,
    log,
  });
  const documents = createDocumentStore({
    pool,
    cacheMaxBytes: config.cacheMaxBytes,
    cacheTtlMs: config.cacheTtlSeconds * 1000,
    notFoundTtlMs: config.cacheNotFoundTtlSeconds * 1000,
  });
  const listener = listenForCatalogChanges({
    connectionString: config.databaseUrl,
    log,
    onChange: (version) => {
      documents.invalidate();
      log.info({ version }, 'catalog changed: document cache cleared');
    },
  });
  const app = createApp({
    log,
    documents,
    checkReady: () => checkCatalogLoaded(pool),
    httpMaxAgeSeconds: config.httpMaxAgeSeconds,
  });

  const server = http.createServer(app.callback());
  applyServerTimeouts(server);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));

  let draining = false;
  const drain = (reason: string): void => {
    if (draining) return;
    draining = true;
    log.info({ reason }, 'draining');
    // Requests still arriving on kept-alive sockets are answered, then their socket closes.
    server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader('Connection', 'close'));
    const force = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    // Keep-alive sockets that finish their last response become idle after close(): sweep them.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      void Promise.allSettled([listener.close(), pool.end()]).then(() => {
        log.info('worker stopped');
        log.flush(() => process.exit(0));
      });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => drain('SIGTERM'));
  process.on('SIGINT', () => drain('SIGINT'));
  process.on('message', (msg) => msg === SHUTDOWN_MESSAGE && drain('primary asked'));
  // If the primary dies, its IPC channel closes: a worker never outlives its primary.
  process.on('disconnect', () => drain('primary gone'));
}
