import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { isDatabaseUnavailable } from './errors';
import { isCatalogEmpty, loadSample } from './live-catalog';
import { migrate } from './migrate';
import { provisionReader, ReaderRefusedError } from './roles';

/** What `migrateAndSeed` did: the migrations applied, and the sample loaded if it was. */
export interface Seeded {
  applied: string[];
  sample?: { products: number; ms: number };
}

/** Applies pending migrations and, for an embedded database, loads the sample into an empty catalog. */
export async function migrateAndSeed(client: pg.ClientBase, config: Config, embedded: boolean): Promise<Seeded> {
  const { applied } = await migrate(client);
  if (!embedded || config.sampleProducts === 0 || !(await isCatalogEmpty(client))) return { applied };
  const started = Date.now();
  const products = await loadSample(client, config.sampleProducts);
  return { applied, sample: { products, ms: Date.now() - started } };
}

/**
 * Migrates the database, provisions the read-only role the workers use, and loads the sample
 * into an empty embedded catalog. Resolves to the connection string workers should use: the
 * reader's, or the owner's when the owner may not provision it (no CREATEROLE, or another owner manages it).
 */
export async function prepareDatabase(url: string, config: Config, embedded: boolean, log: Logger): Promise<string> {
  const client = new pg.Client({
    connectionString: url,
    application_name: 'atelier-products migrate',
    connectionTimeoutMillis: config.pgConnectTimeoutMs,
  });
  await client.connect();
  try {
    const { applied, sample } = await migrateAndSeed(client, config, embedded);
    if (applied.length > 0) log.info({ applied }, 'database migrated');
    if (sample) log.info(sample, 'catalog was empty: loaded the built-in sample catalog');
    try {
      return await provisionReader(client, url);
    } catch (err) {
      if (!(err instanceof ReaderRefusedError)) throw err;
      log.warn(err.message);
      return url;
    }
  } finally {
    await client.end();
  }
}

/** Retries preparation while the database is unreachable; any other failure is fatal. */
export async function prepareWhenReachable(
  url: string,
  config: Config,
  embedded: boolean,
  log: Logger,
  stopped: () => boolean,
  onUnreachable: () => void,
): Promise<string | undefined> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      return await prepareDatabase(url, config, embedded, log);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      if (attempt === 1) {
        log.warn({ err: { message: (err as Error).message } }, 'database unreachable: serving 503 until it answers');
        onUnreachable();
      }
      await sleep(2000);
    }
  }
  return undefined;
}
