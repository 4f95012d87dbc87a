import pg from 'pg';
import { parse } from 'pg-connection-string';
import type { Config } from '../config';
import { startEmbeddedPostgres } from '../postgres/embedded-server';
import { migrateAndSeed } from '../postgres/prepare-database';

export interface FleetDatabase {
  /** What every instance gets as DATABASE_URL. */
  url: string;
  /** For people: where the database is, without credentials. */
  description: string;
  stop(): Promise<void>;
}

/**
 * Where a connection string points, for people: host (or socket directory), port and
 * database, parsed as pg parses it; never the user, password or other parameters.
 */
export function describeDatabase(url: string): string {
  const { host, port, database } = parse(url);
  return `${host || 'local socket'}:${port || 5432}/${database ?? ''}`;
}

/**
 * The fleet's database: DATABASE_URL as given (each instance migrates it on start), or ONE
 * embedded PostgreSQL for all instances, migrated and, when its catalog is empty, loaded
 * with the built-in sample, exactly as a single `npm start` prepares its own.
 */
export async function startFleetDatabase(config: Config, say: (line: string) => void): Promise<FleetDatabase> {
  if (config.databaseUrl !== undefined) {
    return {
      url: config.databaseUrl,
      description: `DATABASE_URL (${describeDatabase(config.databaseUrl)})`,
      stop: async () => undefined,
    };
  }
  say(
    `DATABASE_URL unset: starting one embedded PostgreSQL for every instance (${config.embeddedPgDir}, port ${config.embeddedPgPort})`,
  );
  const embedded = await startEmbeddedPostgres({
    dir: config.embeddedPgDir,
    port: config.embeddedPgPort,
    database: 'atelier',
    sharedBuffersMb: config.embeddedPgSharedBuffersMb,
  });
  try {
    const client = new pg.Client({ connectionString: embedded.url, application_name: 'atelier-products fleet' });
    await client.connect();
    try {
      const { applied, sample } = await migrateAndSeed(client, config, true);
      if (applied.length > 0) say(`database migrated: ${applied.join(', ')}`);
      if (sample) say(`catalog was empty: loaded the built-in sample (${sample.products} products, ${sample.ms} ms)`);
    } finally {
      await client.end();
    }
  } catch (err) {
    await embedded.stop();
    throw err;
  }
  return {
    url: embedded.url,
    description: `embedded PostgreSQL 127.0.0.1:${config.embeddedPgPort} (${config.embeddedPgDir})`,
    stop: () => embedded.stop(),
  };
}
