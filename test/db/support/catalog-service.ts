import http from 'node:http';
import pg from 'pg';
import pino from 'pino';
import { createApp } from '../../../src/app';
import { createDocumentStore, type DocumentStore } from '../../../src/catalog/documents';
import { checkCatalogLoaded } from '../../../src/db/catalog';
import { listenForCatalogChanges, type CatalogListener } from '../../../src/db/listener';
import { freePort } from '../../support/postgres';

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

/** Starts the real app over a real pool on `databaseUrl`, on a free loopback port, listening for catalog changes. */
export async function startCatalogService(databaseUrl: string): Promise<CatalogService> {
  const log = pino({ level: 'silent' });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', () => undefined);
  const documents = createDocumentStore({
    pool,
    cacheMaxBytes: 8 * 1024 * 1024,
    cacheTtlMs: 600_000,
    notFoundTtlMs: 600_000,
  });
  const notices: string[] = [];
  const listener: CatalogListener = listenForCatalogChanges({
    connectionString: databaseUrl,
    log,
    onChange: (version) => {
      documents.invalidate();
      notices.push(version);
    },
  });
  const app = createApp({ log, documents, checkReady: () => checkCatalogLoaded(pool), httpMaxAgeSeconds: 60 });
  const server = http.createServer(app.callback());
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pool,
    documents,
    notices,
    async get(path) {
      const res = await fetch(url + path);
      return { status: res.status, body: await res.text() };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await listener.close();
      await pool.end();
    },
  };
}

