import pg from 'pg';
import type { Logger } from 'pino';

export interface PoolOptions {
  connectionString: string;
  max: number;
  /** Longest wait for a free or new connection, in ms. */
  connectTimeoutMs: number;
  /** Server-side statement timeout, in ms. */
  statementTimeoutMs: number;
  applicationName: string;
  log: Logger;
}

/** A pg pool whose connection errors are logged instead of crashing the process. */
export function createPool(opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    // Idle connections are kept for 30 s: reconnecting costs more than a document read.
    idleTimeoutMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs,
    // Client-side bound too, for a server that stops answering without closing the socket.
    query_timeout: opts.statementTimeoutMs + 1000,
    application_name: opts.applicationName,
    keepAlive: true,
  });
  // An idle client whose server went away emits here; without a listener the worker dies.
  pool.on('error', (err) => opts.log.warn({ err: { message: err.message } }, 'idle database connection lost'));
  return pool;
}
