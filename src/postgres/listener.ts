import pg from 'pg';
import type { Logger } from 'pino';
import { CATALOG_CHANNEL } from './live-catalog';

export interface CatalogListenerOptions {
  connectionString: string;
  log: Logger;
  /** Called with each notification's payload (src/postgres/catalog-notice.ts), and with MISSED after a reconnect that may have missed one. */
  onChange: (version: string) => void;
}

export interface CatalogListener {
  /**
   * Resolves once LISTEN is in place (and the catalog's version read), or after `timeoutMs`.
   * A worker waits on it before it reads or serves documents; when the wait times out (the
   * database down at start), it serves unheard, so the first connect reports MISSED: a change
   * committed before then may be in what it cached.
   */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** What a reconnect reports when a change may have been committed unheard: read as a new catalog, it clears everything. */
export const MISSED = 'unknown (listener reconnected, the catalog changed meanwhile)';

/**
 * The newest catalog_info row: every commit that changes documents adds one (a load, a change
 * set, a refresh: migration 009), under the next version of one sequence. Its time tells a
 * catalog built again from scratch at the same version apart.
 */
const NEWEST_VERSION = "SELECT version::text AS version, loaded_at::text AS at FROM catalog.catalog_info ORDER BY version DESC LIMIT 1";

/** The newest change this worker has been told of: a version, and its time when it was read rather than notified. */
interface Heard {
  version: string;
  at?: string;
}

async function newestVersion(c: pg.Client): Promise<Heard | undefined> {
  try {
    const { rows } = await c.query<{ version: string; at: string }>(NEWEST_VERSION);
    return rows[0] ?? { version: 'none' };
  } catch {
    // No catalog schema yet, or the connection failed again: unknown, which counts as changed.
    return undefined;
  }
}

/** Whether the catalog now is the one last heard of: nothing was committed while the connection was down. */
function unchanged(heard: Heard | undefined, now: Heard | undefined): boolean {
  if (heard === undefined || now === undefined) return false;
  return heard.version === now.version && (heard.at === undefined || heard.at === now.at);
}

/**
 * Keeps one connection LISTENing for catalog changes, reconnecting with backoff (0.5 s
 * doubling to 10 s). After a reconnect the cache is cleared only if a change may have been
 * missed: the newest catalog version, read once LISTEN is in place (so anything committed
 * later is notified), differs from the last one heard of. A restart of PostgreSQL that
 * changed nothing then leaves every worker's cache as it was, where clearing it sent every
 * worker's misses at once to a database whose buffers had just been emptied.
 */
export function listenForCatalogChanges(opts: CatalogListenerOptions): CatalogListener {
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 500;
  let timer: NodeJS.Timeout | undefined;
  // Whether a connect must compare the catalog with the last one heard of: after the first
  // connect, and before it once the owner stopped waiting (ready() timed out) and may cache
  // documents no notice will ever be heard for.
  let mayHaveMissed = false;
  let heard: Heard | undefined;
  let listening = (): void => undefined;
  const firstListen = new Promise<void>((resolve) => (listening = resolve));

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  };

  const notified = (payload: string): void => {
    // Notices arrive in commit order: the last one's version is the newest heard of. A payload
    // without one (not ours) leaves nothing known.
    const version = /^\d+/.exec(payload)?.[0];
    heard = version === undefined ? undefined : { version };
    opts.onChange(payload);
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: opts.connectionString, application_name: 'atelier-products listener' });
    client = c;
    c.on('error', () => undefined);
    c.on('end', () => {
      if (!closed && client === c) schedule();
    });
    c.on('notification', (msg) => msg.channel === CATALOG_CHANNEL && notified(msg.payload ?? ''));
    try {
      await c.connect();
      await c.query(`LISTEN ${CATALOG_CHANNEL}`);
      retryMs = 500;
      // A notice of a change this read sees has reached `notified` before the read's answer:
      // PostgreSQL delivers notices before it reports the statement done (ReadyForQuery).
      const now = await newestVersion(c);
      if (mayHaveMissed) {
        if (unchanged(heard, now)) opts.log.info({ version: now!.version }, 'catalog listener reconnected; no change committed meanwhile: cache kept');
        else opts.onChange(MISSED);
      }
      heard = now;
      mayHaveMissed = true;
      listening();
    } catch (err) {
      opts.log.debug({ err: { message: (err as Error).message } }, 'catalog listener could not connect');
      client = undefined;
      void c.end().catch(() => undefined);
      schedule();
    }
  };

  void connect();
  return {
    ready(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          mayHaveMissed = true;
          resolve();
        }, timeoutMs);
      });
      return Promise.race([firstListen, gaveUp]).finally(() => clearTimeout(timer));
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
