import type pg from 'pg';
import pino from 'pino';
import type { DocumentStore } from '../../../src/catalog/documents';
import { listenForCatalogChanges } from '../../../src/postgres/listener';
import { startApp } from '../../support/app';

/** One worker's worth of the service: pool, document store, catalog listener, HTTP server. */
export interface CatalogService {
  url: string;
  pool: pg.Pool;
  documents: DocumentStore;
  /** Catalog versions announced to this worker, in order. */
  notices: string[];
  get(path: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/** Starts the real app over a real pool on `databaseUrl` (startApp), listening for catalog changes as a worker does. */
export async function startCatalogService(databaseUrl: string): Promise<CatalogService> {
  // Long not-found TTL; documents live startApp's 60 s, longer than any test here: so a cache
  // cleared after a reload is the notice's doing, never expiry's.
  const app = await startApp(databaseUrl, { cacheMaxBytes: 8 * 1024 * 1024, notFoundTtlMs: 600_000 });
  const notices: string[] = [];
  const listener = listenForCatalogChanges({
    connectionString: databaseUrl,
    log: pino({ level: 'silent' }),
    onChange: (version) => {
      app.documents.invalidate();
      notices.push(version);
    },
  });
  return {
    url: app.url,
    pool: app.pool,
    documents: app.documents,
    notices,
    async get(path) {
      const res = await fetch(app.url + path);
      return { status: res.status, body: await res.text() };
    },
    async close() {
      await app.close();
      await listener.close();
    },
  };
}
