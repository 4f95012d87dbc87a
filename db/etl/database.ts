import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/config';
import { startEmbeddedPostgres } from '../../src/db/embedded';

export interface DatabaseHandle {
  url: string;
  /** Stops the embedded server when this process started it; otherwise does nothing. */
  close(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * DATABASE_URL when set; else the embedded PostgreSQL, as db/migrate.ts does. When the
 * embedded server is already running (the service started it with `npm start`), a second
 * one cannot start on the same directory, so this connects to the running one: a reload
 * must reach the database the service reads from.
 */
export async function openDatabase(config: Config, database = 'atelier'): Promise<DatabaseHandle> {
  if (config.databaseUrl !== undefined) return { url: config.databaseUrl, close: async () => undefined };
  const dir = config.embeddedPgDir;
  // Same file embedded.ts keeps the generated superuser password in.
  const secretFile = path.join(path.dirname(dir), `${path.basename(dir)}.password`);
  if (fs.existsSync(path.join(dir, 'postmaster.pid')) && fs.existsSync(secretFile)) {
    const password = fs.readFileSync(secretFile, 'utf8').trim();
    const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${config.embeddedPgPort}/${database}`;
    if (await answers(url)) return { url, close: async () => undefined };
  }
  const embedded = await startEmbeddedPostgres({ dir, port: config.embeddedPgPort, database });
  return { url: embedded.url, close: () => embedded.stop() };
}
