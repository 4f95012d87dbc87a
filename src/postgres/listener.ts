import pg from 'pg';
import type { Logger } from 'pino';
import { CATALOG_CHANNEL } from './live-catalog';

export interface CatalogListenerOptions {
  connectionString: string;
  log: Logger;
  /** Called with each notification's payload (src/postgres/catalog-notice.ts). */
  onChange: (version: string) => void;
}

export interface CatalogListener {
  close(): Promise<void>;
}

/**
 * Keeps one connection LISTENing for catalog changes, reconnecting with backoff (0.5 s
 * doubling to 10 s). After a reconnect the cache is cleared too: a notice may have been
 * missed while the connection was down.
 */
export function listenForCatalogChanges(opts: CatalogListenerOptions): CatalogListener {
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 500;
  let timer: NodeJS.Timeout | undefined;
  let connectedBefore = false;

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: opts.connectionString, application_name: 'atelier-products listener' });
    client = c;
    c.on('error', () => undefined);
    c.on('end', () => {
      if (!closed && client === c) schedule();
    });
    c.on('notification', (msg) => msg.channel === CATALOG_CHANNEL && opts.onChange(msg.payload ?? ''));
    try {
      await c.connect();
      await c.query(`LISTEN ${CATALOG_CHANNEL}`);
      retryMs = 500;
      if (connectedBefore) opts.onChange('unknown (listener reconnected)');
      connectedBefore = true;
    } catch (err) {
      opts.log.debug({ err: { message: (err as Error).message } }, 'catalog listener could not connect');
      client = undefined;
      void c.end().catch(() => undefined);
      schedule();
    }
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
