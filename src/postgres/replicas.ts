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
 *
 * A replica is read from only once it is known to have replayed the primary's WAL as of the
 * last catalog change this router heard of (or of its start): at start, after it was down,
 * and after each change it is checked first, and until then its reads go elsewhere. So a
 * replica that returns behind, or lags a reload, cannot put old documents into the cache.
 */
export interface ReadRouter extends ReadPool {
  /**
   * The catalog changed on the primary: every replica is read from again only once it has
   * replayed the primary's WAL as of this call. Resolves as soon as that position is known,
   * without waiting for the replicas: the caller clears its cache at once.
   */
  changed(): Promise<void>;
  /** Resolves once every replica is checked (or down), or after `timeoutMs`: for a worker's start. */
  ready(timeoutMs: number): Promise<void>;
  /** Names of the replicas currently skipped because they failed. */
  down(): string[];
  /** Names of the replicas up but not (yet) known to have replayed the last change. */
  behind(): string[];
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
// Poll interval while a check waits for a replica to replay, in ms.
const CATCH_UP_POLL_MS = 50;
// How long one check waits for a replica to replay; one still behind is checked again after
// RECHECK_MS, its reads going elsewhere meanwhile, in ms.
const CHECK_WAIT_MS = 1_000;
const RECHECK_MS = 1_000;

// SQLSTATE 40001 on a standby: the statement was cancelled by a conflict with WAL replay.
// The replica is fine; this one read is simply answered by the primary.
const isRecoveryConflict = (err: unknown): boolean => (err as { code?: unknown }).code === '40001';

interface Replica {
  name: string;
  pool: pg.Pool;
  downUntil: number;
  /** Known to have replayed the last change: reads may go to it. */
  current: boolean;
  /** Bumped whenever `current` is revoked: a check started before that cannot grant it. */
  epoch: number;
  checking: boolean;
  checkAfter: number;
  /** Said in the log that it is behind (said once per episode). */
  reportedBehind: boolean;
}

export function createReadRouter(opts: ReadRouterOptions): ReadRouter {
  const downForMs = opts.downForMs ?? DEFAULT_DOWN_FOR_MS;
  const replicas: Replica[] = opts.replicas.map((r) => ({
    name: r.name, pool: r.pool, downUntil: 0, current: false, epoch: 0, checking: false, checkAfter: 0, reportedBehind: false,
  }));
  let cursor = 0;
  // The highest primary WAL position read so far: the bar when the primary cannot be asked.
  let knownLsn: string | undefined;
  let ended = false;

  const revoke = (replica: Replica): void => {
    replica.current = false;
    replica.epoch++;
    replica.checkAfter = 0;
  };

  const markDown = (replica: Replica, err: unknown): void => {
    const wasUp = replica.downUntil <= Date.now();
    replica.downUntil = Date.now() + downForMs;
    revoke(replica);
    if (wasUp) {
      opts.log.warn(
        { replica: replica.name, downForMs, err: { message: (err as Error).message } },
        'replica unreachable: reading from the other replicas or the primary',
      );
    }
  };

  const primaryLsn = async (): Promise<string | undefined> => {
    try {
      const { rows } = await opts.primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      knownLsn = rows[0]?.lsn ?? knownLsn;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
    }
    return knownLsn;
  };

  const replayed = async (replica: Replica, lsn: string): Promise<boolean> => {
    // NULL on a server that is not in recovery (a primary given as a replica): caught up.
    const { rows } = await replica.pool.query<{ done: boolean }>('SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true) AS done', [lsn]);
    return rows[0]?.done === true;
  };

  const check = async (replica: Replica): Promise<void> => {
    const epoch = replica.epoch;
    replica.checking = true;
    try {
      // With neither the primary nor a position heard before (a worker starting during a
      // primary outage) there is nothing to compare with: the replica is the best data there is.
      const lsn = await primaryLsn();
      const deadline = Date.now() + CHECK_WAIT_MS;
      let done = lsn === undefined || (await replayed(replica, lsn));
      while (!done && Date.now() < deadline && !ended) {
        await sleep(CATCH_UP_POLL_MS);
        done = await replayed(replica, lsn!);
      }
      if (epoch !== replica.epoch) return;
      if (done) {
        replica.current = true;
        if (replica.reportedBehind) opts.log.info({ replica: replica.name }, 'replica caught up: reading from it again');
        replica.reportedBehind = false;
        return;
      }
      replica.checkAfter = Date.now() + RECHECK_MS;
      if (!replica.reportedBehind) opts.log.warn({ replica: replica.name, lsn }, 'replica behind the primary: reading elsewhere until it replays');
      replica.reportedBehind = true;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) {
        replica.checkAfter = Date.now() + RECHECK_MS;
        opts.log.warn({ replica: replica.name, err }, 'could not check replica progress');
      } else if (epoch === replica.epoch) markDown(replica, err);
    } finally {
      replica.checking = false;
    }
  };

  // A replica that may be read from now; one due a check gets it started in the background.
  const readable = (replica: Replica): boolean => {
    const now = Date.now();
    if (replica.downUntil > now) return false;
    if (replica.current) return true;
    if (!replica.checking && replica.checkAfter <= now && !ended) void check(replica);
    return false;
  };

  const query = async <R extends unknown[]>(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult<R>> => {
    for (let tried = 0; tried < replicas.length; tried++) {
      const replica = replicas[cursor++ % replicas.length]!;
      if (!readable(replica)) continue;
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

  const settled = (): boolean => replicas.every((r) => r.current || r.downUntil > Date.now());

  return {
    query,
    async changed() {
      if (replicas.length === 0) return;
      for (const replica of replicas) revoke(replica);
      // The check each replica now needs reads the primary's position itself, after this point.
      await primaryLsn().catch((err: unknown) => opts.log.warn({ err }, 'could not read the primary WAL position'));
      for (const replica of replicas) readable(replica);
    },
    async ready(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (const replica of replicas) readable(replica);
      while (!settled() && Date.now() < deadline && !ended) {
        await sleep(CATCH_UP_POLL_MS);
        for (const replica of replicas) readable(replica);
      }
    },
    down: () => replicas.filter((r) => r.downUntil > Date.now()).map((r) => r.name),
    behind: () => replicas.filter((r) => r.downUntil <= Date.now() && !r.current).map((r) => r.name),
    async end() {
      ended = true;
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
