import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './errors';
import { createPool, type PoolOptions } from './pool';

/** What the document store needs of a database: one read-only statement at a time. */
export interface ReadPool {
  query<R extends unknown[] = unknown[]>(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult<R>>;
}

/**
 * Reads spread over streaming replicas: each statement goes to the next replica in turn;
 * a replica that cannot be reached is skipped for a while and, with none left, the
 * primary answers. With no replicas every read goes to the primary.
 */
export interface ReadRouter extends ReadPool {
  /**
   * Resolves once every replica not marked down has replayed the primary's WAL as of this
   * call (or after `timeoutMs`): a catalog change announced on the primary is then visible
   * on every replica, so a cache cleared afterwards cannot refill with the old documents.
   */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Names of the replicas currently skipped. */
  down(): string[];
  /** Closes the replicas' pools (the primary's pool belongs to the caller). */
  end(): Promise<void>;
}

export interface ReadRouterOptions {
  /** The primary's pool: the fallback, and the reference for replication progress. */
  primary: pg.Pool;
  replicas: ReadonlyArray<{ name: string; pool: pg.Pool }>;
  log: Logger;
  /** How long a replica that failed is skipped before a read tries it again, in ms. */
  downForMs?: number;
  /** Observes which database answered each read: 'primary' or a replica's name. */
  onRead?: (target: string) => void;
}

// 5 s: long enough that a dead replica costs one failed connect per worker per 5 s, short
// enough that a restarted one takes its share again within seconds.
const DEFAULT_DOWN_FOR_MS = 5_000;
// Poll interval while waiting for replicas to replay a change, in ms.
const CATCH_UP_POLL_MS = 50;
// A replica still behind after this long is left behind (its reads stay stale until the
// cache TTL), rather than keeping every other replica's readers on old documents, in ms.
const DEFAULT_CATCH_UP_TIMEOUT_MS = 30_000;

// SQLSTATE 40001 on a standby: the statement was cancelled by a conflict with WAL replay.
// The replica is fine; this one read is simply answered by the primary.
const isRecoveryConflict = (err: unknown): boolean => (err as { code?: unknown }).code === '40001';

interface Replica {
  name: string;
  pool: pg.Pool;
  downUntil: number;
}

export function createReadRouter(opts: ReadRouterOptions): ReadRouter {
  const downForMs = opts.downForMs ?? DEFAULT_DOWN_FOR_MS;
  const replicas: Replica[] = opts.replicas.map((r) => ({ name: r.name, pool: r.pool, downUntil: 0 }));
  let cursor = 0;

  const markDown = (replica: Replica, err: unknown): void => {
    const wasUp = replica.downUntil <= Date.now();
    replica.downUntil = Date.now() + downForMs;
    if (wasUp) {
      opts.log.warn(
        { replica: replica.name, downForMs, err: { message: (err as Error).message } },
        'replica unreachable: reading from the other replicas or the primary',
      );
    }
  };

  const query = async <R extends unknown[]>(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult<R>> => {
    for (let tried = 0; tried < replicas.length; tried++) {
      const replica = replicas[cursor++ % replicas.length]!;
      if (replica.downUntil > Date.now()) continue;
      try {
        const result = await replica.pool.query<R>(config);
        opts.onRead?.(replica.name);
        return result;
      } catch (err) {
        if (isRecoveryConflict(err)) break;
        if (!isDatabaseUnavailable(err)) throw err;
        markDown(replica, err);
      }
    }
    const result = await opts.primary.query<R>(config);
    opts.onRead?.('primary');
    return result;
  };

  const waitFor = async (replica: Replica, lsn: string, deadline: number): Promise<void> => {
    while (Date.now() < deadline) {
      // A replica already skipped is not read from; it replays on its own when it returns.
      if (replica.downUntil > Date.now()) return;
      try {
        // NULL on a server that is not in recovery (a primary given as a replica): caught up.
        const { rows } = await replica.pool.query<{ done: boolean }>(
          'SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true) AS done',
          [lsn],
        );
        if (rows[0]?.done) return;
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
        markDown(replica, err);
        return;
      }
      await sleep(CATCH_UP_POLL_MS);
    }
    opts.log.warn({ replica: replica.name, lsn }, 'replica did not replay the catalog change in time');
  };

  return {
    query,
    async caughtUp(timeoutMs = DEFAULT_CATCH_UP_TIMEOUT_MS) {
      if (replicas.length === 0) return;
      const { rows } = await opts.primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      const lsn = rows[0]?.lsn;
      if (lsn === undefined) return;
      const deadline = Date.now() + timeoutMs;
      await Promise.all(replicas.map((r) => waitFor(r, lsn, deadline)));
    },
    down: () => replicas.filter((r) => r.downUntil > Date.now()).map((r) => r.name),
    async end() {
      await Promise.allSettled(replicas.map((r) => r.pool.end()));
    },
  };
}

/**
 * The worker's read router: one pool per replica URL, configured like the primary's
 * (`poolOptions`), named "replica 1", "replica 2"… in the order of DATABASE_REPLICA_URLS.
 */
export function createReplicatedReads(
  primary: pg.Pool,
  replicaUrls: readonly string[],
  poolOptions: Omit<PoolOptions, 'connectionString'>,
  extra: Pick<ReadRouterOptions, 'downForMs' | 'onRead'> = {},
): ReadRouter {
  const replicas = replicaUrls.map((url, i) => ({
    name: `replica ${i + 1}`,
    pool: createPool({ ...poolOptions, connectionString: url, applicationName: `${poolOptions.applicationName} replica ${i + 1}` }),
  }));
  return createReadRouter({ primary, replicas, log: poolOptions.log, ...extra });
}
