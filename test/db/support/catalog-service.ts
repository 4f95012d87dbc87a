import type pg from 'pg';
import pino from 'pino';
import type { DocumentStore } from '../../../src/catalog/documents';
import { createInvalidation } from '../../../src/catalog/invalidation';
import { listenForCatalogChanges } from '../../../src/postgres/listener';
import { startApp } from '../../support/app';

/** One worker's worth of the service: pool, document store, catalog listener, HTTP server. */
export interface CatalogService {
  url: string;
  pool: pg.Pool;
  documents: DocumentStore;
  /** Catalog notices (payloads) this worker has acted on, in the order it finished each. */
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
  const log = pino({ level: 'silent' });
  // What a worker does with a notice (no replicas here); recorded once the cache is updated.
  const invalidate = createInvalidation({ documents: app.documents, reads: { changed: async () => undefined }, primary: app.pool, log });
  const listener = listenForCatalogChanges({
    connectionString: databaseUrl,
    log,
    onChange: (payload) => void invalidate(payload).then(() => notices.push(payload)),
  });
  // As a worker does: nothing a test commits after this goes unheard.
  await listener.ready(10_000);
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
