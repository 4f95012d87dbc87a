import pg from 'pg';
import { databaseOf, withDatabase } from '../src/postgres/urls';

/** A copy of a database on the same server, for benches that change what they read. */
export interface ScratchCopy {
  /** The copy's URL (the source URL with the copy's name). */
  url: string;
  /** Milliseconds the copy took. */
  copyMs: number;
  /** Drops the copy, whoever is still connected to it. */
  drop(): Promise<void>;
}

/**
 * Copies the database of `sourceUrl` to `name` (CREATE DATABASE … TEMPLATE … STRATEGY
 * FILE_COPY: a file copy after a checkpoint, minutes at most for a full catalog, where
 * WAL_LOG would write every page to the WAL). PostgreSQL refuses while any other session is
 * connected to the source, so callers copy before they connect to it.
 */
export async function copyDatabase(sourceUrl: string, name: string): Promise<ScratchCopy> {
  const source = databaseOf(sourceUrl);
  const admin = new pg.Client({ connectionString: withDatabase(sourceUrl, 'postgres'), application_name: 'atelier-products scratch copy' });
  // Held until drop(): a server stopping meanwhile must not crash the caller.
  admin.on('error', () => undefined);
  await admin.connect();
  const drop = async (): Promise<void> => {
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
  };
  try {
    const started = Date.now();
    await drop();
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE ${admin.escapeIdentifier(source)} STRATEGY FILE_COPY`);
    return {
      url: withDatabase(sourceUrl, name),
      copyMs: Date.now() - started,
      drop: async () => {
        try {
          await drop();
        } finally {
          await admin.end();
        }
      },
    };
  } catch (err) {
    await admin.end().catch(() => undefined);
    throw err;
  }
}
