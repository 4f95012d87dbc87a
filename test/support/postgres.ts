import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/postgres/embedded-server';
import { migrate } from '../../src/postgres/migrate';
import { withDatabase } from '../../src/postgres/urls';
import { freePort } from '../../src/fleet/process';

export { freePort };

/**
 * One PostgreSQL server for the whole test run: TEST_DATABASE_URL's server when set,
 * else an embedded one in a fresh temporary directory on a free port. Every test file
 * creates its own databases on it, so tests never share data.
 */
let server: Promise<{ adminUrl: string; embedded?: EmbeddedPostgres }> | undefined;


async function startServer(): Promise<{ adminUrl: string; embedded?: EmbeddedPostgres }> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) return { adminUrl: external };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-test-'));
  // The temp dir itself must be traversable by the unprivileged server user when run as root.
  fs.chmodSync(dir, 0o755);
  const embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: await freePort(), database: 'postgres' });
  return { adminUrl: embedded.url, embedded };
}

export function testServer(): Promise<{ adminUrl: string }> {
  server ??= startServer();
  return server;
}

/** Stops the embedded server (root hook, after all tests). */
export async function stopTestServer(): Promise<void> {
  if (!server) return;
  const { embedded } = await server;
  server = undefined;
  await embedded?.stop();
}

/** Runs one statement on a fresh connection to `url` and returns its rows as arrays. */
export async function queryRows(url: string, sql: string, values?: unknown[]): Promise<unknown[][]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query({ text: sql, values, rowMode: 'array' })).rows as unknown[][];
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

let counter = 0;

/** A new, empty, migrated database; `drop()` removes it (terminating leftover sessions). */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const { adminUrl } = await testServer();
  const name = `atelier_t${process.pid}_${++counter}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  if (opts.migrate !== false) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await migrate(client);
    await client.end();
  }
  return {
    url,
    name,
    async drop() {
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
