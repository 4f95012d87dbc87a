import type { Cluster } from 'node:cluster';
import type http from 'node:http';
import type pg from 'pg';
import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { createPool } from '../postgres/pool';
import { createCatalogReader, registerCatalogMetrics } from './catalog-metrics';
import { createClusterCollector } from './cluster-collector';
import { startMetricsServer } from './server';

export interface ClusterMetricsOptions {
  cluster: Cluster;
  /** Interface and port of the scrape endpoint. */
  host: string;
  port: number;
  /** The database's connection string once known (the embedded one starts after this). */
  databaseUrl: () => string | undefined;
  log: Logger;
  /** The running build (src/version.ts), exported as `atelier_build_info{version}`. */
  version: string;
  /** How long a scrape waits for one worker before using its previous snapshot, in ms. */
  workerTimeoutMs?: number;
}

export interface ClusterMetrics {
  /** The port the scrape endpoint listens on. */
  readonly port: number;
  /** Count one replacement of a dead worker. */
  workerRestarted(): void;
  close(): Promise<void>;
}

// 1 s: a worker answers in about a millisecond even under load; one that takes longer is
// stuck, and the scrape must not wait for it (Prometheus' default scrape timeout is 10 s).
const WORKER_TIMEOUT_MS = 1_000;
// Catalog state is read at most every 5 s and waited for at most 1 s per scrape.
const CATALOG_MAX_AGE_MS = 5_000;
const CATALOG_TIMEOUT_MS = 1_000;

/**
 * The cluster's metrics, run in the primary: asks every worker for its registry over IPC,
 * adds the primary's own metrics (restarts, catalog state, ETL counts) and serves the sum
 * on `host:port/metrics`.
 */
export async function startClusterMetrics(opts: ClusterMetricsOptions): Promise<ClusterMetrics> {
  const registry = new Registry();
  const registers = [registry];
  const restarts = new Counter({
    name: 'atelier_worker_restarts_total',
    help: 'Workers that died and were replaced by the primary.',
    registers,
  });
  const timeouts = new Counter({
    name: 'atelier_metrics_worker_timeouts_total',
    help: 'Scrapes in which a worker did not answer in time and its previous snapshot was served instead.',
    registers,
  });
  // The usual *_build_info: constant 1, the version in a label, so a dashboard (or a rolling
  // deploy) sees which instance runs which build.
  new Gauge({ name: 'atelier_build_info', help: 'The running build: 1, with its version as a label.', labelNames: ['version'], registers }).set(
    { version: opts.version },
    1,
  );
  // Workers count once they listen: a forked worker still starting serves nothing yet.
  const serving = new Set<number>();
  new Gauge({
    name: 'atelier_workers',
    help: 'Worker processes listening on the public port and connected to the primary.',
    registers,
    collect() {
      this.set([...serving].filter((id) => opts.cluster.workers?.[id]?.isConnected()).length);
    },
  });

  let pool: pg.Pool | undefined;
  const poolFor = (): pg.Pool | undefined => {
    const url = opts.databaseUrl();
    if (pool === undefined && url !== undefined) {
      pool = createPool({
        connectionString: url,
        max: 1,
        connectTimeoutMs: CATALOG_TIMEOUT_MS,
        statementTimeoutMs: CATALOG_TIMEOUT_MS,
        applicationName: 'atelier-products metrics',
        log: opts.log,
      });
    }
    return pool;
  };
  const readCatalog = createCatalogReader({
    pool: poolFor,
    maxAgeMs: CATALOG_MAX_AGE_MS,
    timeoutMs: CATALOG_TIMEOUT_MS,
    onError: (err) => opts.log.debug({ err: { message: (err as Error).message } }, 'metrics: catalog state unavailable'),
  });
  const catalog = registerCatalogMetrics(registry, readCatalog);

  const collector = createClusterCollector({
    timeoutMs: opts.workerTimeoutMs ?? WORKER_TIMEOUT_MS,
    onTimeout: (worker) => {
      timeouts.inc();
      opts.log.warn({ worker }, 'metrics: worker did not answer in time, serving its previous snapshot');
    },
    onError: (worker, error) => opts.log.warn({ worker, error }, 'metrics: worker could not collect its metrics, serving its previous snapshot'),
  });
  const onMessage = (worker: Parameters<typeof collector.onMessage>[0], message: unknown): void =>
    collector.onMessage(worker, message);
  const onExit = (worker: Parameters<typeof collector.onExit>[0]): void => {
    serving.delete(worker.id);
    collector.onExit(worker);
  };
  const onListening = (worker: { id: number }): void => void serving.add(worker.id);
  opts.cluster.on('message', onMessage);
  opts.cluster.on('exit', onExit);
  opts.cluster.on('listening', onListening);

  const render = async (): Promise<string> => {
    // The catalog is read once per scrape, while the workers answer; the gauges then use that state.
    const catalogRead = catalog.refresh();
    const snapshots = await collector.collect();
    const workersText = await AggregatorRegistry.aggregate(snapshots).metrics();
    await catalogRead;
    return workersText + (await registry.metrics());
  };

  let server: http.Server;
  try {
    server = await startMetricsServer({ host: opts.host, port: opts.port, render, contentType: registry.contentType, log: opts.log });
  } catch (err) {
    opts.cluster.off('message', onMessage);
    opts.cluster.off('exit', onExit);
    opts.cluster.off('listening', onListening);
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;

  return {
    port,
    workerRestarted: () => restarts.inc(),
    async close() {
      opts.cluster.off('message', onMessage);
      opts.cluster.off('exit', onExit);
      opts.cluster.off('listening', onListening);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool?.end().catch(() => undefined);
    },
  };
}
