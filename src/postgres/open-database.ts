import pg from 'pg';
import { runningClusterUrl, startEmbeddedPostgres } from './embedded-server';

/** A database for a command-line tool, and how to let go of it. */
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
 * For tools (migrate, ETL, refresh, benches): DATABASE_URL when set; else the embedded
 * cluster. When `npm start` already runs that cluster, a second server cannot start on the
 * same directory, so the tool connects to the running one: a reload must reach the database
 * the service reads from.
 */
export async function openDatabase(
  config: { databaseUrl: string | undefined; embeddedPgDir: string; embeddedPgPort: number; embeddedPgSharedBuffersMb?: number },
  database = 'atelier',
): Promise<DatabaseHandle> {
  if (config.databaseUrl !== undefined) return { url: config.databaseUrl, close: async () => undefined };
  const dir = config.embeddedPgDir;
  const running = runningClusterUrl(dir, config.embeddedPgPort, database);
  if (running !== undefined && (await answers(running))) return { url: running, close: async () => undefined };
  const embedded = await startEmbeddedPostgres({ dir, port: config.embeddedPgPort, database, sharedBuffersMb: config.embeddedPgSharedBuffersMb });
  return { url: embedded.url, close: () => embedded.stop() };
}
