import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config';
import { workerHeapFlags } from '../catalog/memory';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../postgres/embedded-server';
import { prepareWhenReachable } from '../postgres/prepare-database';
import { readerUrl } from '../postgres/roles';
import { createLogger } from '../logger';
import { readVersion } from '../version';
import { startClusterMetrics, type ClusterMetrics } from '../metrics/cluster-metrics';
import { SHUTDOWN_MESSAGE } from './messages';
import { createRestartBackoff, type RestartBackoffOptions } from './restart-backoff';

// Time a worker gets beyond SHUTDOWN_TIMEOUT_MS to close its pool and report before SIGKILL (ms).
const KILL_GRACE_MS = 2_000;
// A worker that dies within 5 s of starting counts as a crash-loop step; it is replaced at
// once after a healthy run, else after 100, 200, 400 ms … capped at 30 s.
const WORKER_BACKOFF: RestartBackoffOptions = { healthyAfterMs: 5_000, afterHealthyMs: 0, baseDelayMs: 100, maxDelayMs: 30_000 };

/** The primary: owns the embedded database, prepares the schema, forks and supervises workers. */
export async function runPrimary(config: Config): Promise<void> {
  const log = createLogger({ level: config.logLevel, base: { role: 'primary' } });
  const version = readVersion();
  log.info({ version, workers: config.workers }, 'starting');
  let embedded: EmbeddedPostgres | undefined;
  let metrics: ClusterMetrics | undefined;
  let shuttingDown = false;
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));

  let databaseUrl = config.databaseUrl;
  // First, so a taken metrics port fails the start before anything else runs.
  if (config.metricsPort > 0) {
    metrics = await startClusterMetrics({ cluster, host: config.metricsHost, port: config.metricsPort, databaseUrl: () => databaseUrl, log, version });
  }
  if (databaseUrl === undefined) {
    log.info({ dir: config.embeddedPgDir, port: config.embeddedPgPort }, 'DATABASE_URL unset: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dir: config.embeddedPgDir,
      port: config.embeddedPgPort,
      database: 'atelier',
      sharedBuffersMb: config.embeddedPgSharedBuffersMb,
    });
    databaseUrl = embedded.url;
    if (shuttingDown) return void (await embedded.stop());
  }

  let unreachable!: () => void;
  const databaseDown = new Promise<void>((r) => (unreachable = r));
  const preparing = prepareWhenReachable(databaseUrl, config, embedded !== undefined, log, () => shuttingDown, unreachable);
  preparing.catch(async (err: unknown) => {
    log.fatal({ err }, 'database preparation failed');
    await shutdown('preparation failed', 1);
  });
  // With a reachable database, serve only once it is migrated; an unreachable one is
  // retried in the background while workers answer 503.
  // Workers read as the reader role; while the database is unreachable its provisioning is
  // still to come, so they are given the reader's (derived) credentials up front.
  let workerDatabaseUrl = (await Promise.race([preparing, databaseDown]).catch(() => undefined)) ?? readerUrl(databaseUrl);
  if (shuttingDown) return;
  // That guess is wrong when the owner turns out unable to create the reader (no CREATEROLE,
  // another owner's reader) or its password was in ~/.pgpass: those workers would fail every
  // login. Once preparation knows, they are replaced by workers given the right URL.
  void preparing.then(
    (prepared) => {
      if (prepared === undefined || prepared === workerDatabaseUrl || shuttingDown) return;
      workerDatabaseUrl = prepared;
      log.warn('the workers were given the wrong database credentials while the database was down: replacing them');
      void replaceWorkers();
    },
    () => undefined,
  );

  // Workers accept on the shared socket themselves. With the default round-robin policy the
  // primary accepts and hands sockets over, and a connection it accepts while workers drain
  // is stranded until they exit; here the kernel refuses it as soon as the last one closes.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  // Each worker's heap limit follows its cache budget; last, so they win over NODE_OPTIONS.
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...workerHeapFlags(config.cacheMaxBytes)] });
  const startedAt = new Map<number, number>();
  // Workers asked to drain because a replacement took their place: not restarted.
  const retiring = new Set<number>();
  const backoff = createRestartBackoff(WORKER_BACKOFF);
  const fork = (): Worker => {
    const worker = cluster.fork({ DATABASE_URL: workerDatabaseUrl });
    startedAt.set(worker.id, Date.now());
    return worker;
  };
  const liveWorkers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

  // One at a time, each old worker draining only once its replacement listens: capacity holds.
  async function replaceWorkers(): Promise<void> {
    for (const old of liveWorkers()) {
      if (shuttingDown) return;
      const fresh = fork();
      await new Promise<void>((resolve) => {
        fresh.once('listening', () => resolve());
        fresh.once('exit', () => resolve());
      });
      retiring.add(old.id);
      if (old.isConnected()) old.send(SHUTDOWN_MESSAGE);
    }
    log.info('workers replaced');
  }

  cluster.on('exit', (worker: Worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (retiring.delete(worker.id) || shuttingDown) return;
    metrics?.workerRestarted();
    const delay = backoff.died(lived);
    log.error({ worker: worker.id, code, signal, lived, restartInMs: delay }, 'worker died: replacing it');
    setTimeout(() => !shuttingDown && fork(), delay);
  });

  let announced = false;
  cluster.on('listening', () => {
    if (announced) return;
    announced = true;
    const url = `http://localhost:${config.port}`;
    log.info({ workers: config.workers, url }, `serving on ${url} - try ${url}/products/1/styles`);
  });

  for (let i = 0; i < config.workers; i++) fork();

  async function shutdown(reason: string, exitCode: number): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, 'shutting down: draining workers');
    const workers = liveWorkers();
    const exited = workers.map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    for (const w of workers) if (w.isConnected()) w.send(SHUTDOWN_MESSAGE);
    // A worker force-closes its last connections at shutdownTimeoutMs, then closes its pool and
    // hands over its final counts: it gets that long plus a grace before it is killed.
    const force = setTimeout(() => {
      log.warn('workers did not drain in time: killing them');
      for (const w of workers) w.process.kill('SIGKILL');
    }, config.shutdownTimeoutMs + KILL_GRACE_MS);
    await Promise.all(exited);
    clearTimeout(force);
    await metrics?.close();
    await embedded?.stop().catch((err: unknown) => log.error({ err }, 'embedded PostgreSQL did not stop cleanly'));
    log.info('stopped');
    log.flush(() => process.exit(exitCode));
  }
}
