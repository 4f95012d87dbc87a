import pg from 'pg';
import { loadConfig } from '../src/config';
import { catalogVersion, foldOverlays, notifyCatalogChanged, recordCatalogVersion, refreshDocuments } from '../src/postgres/live-catalog';
import { CATALOG_SCHEMA, migrate } from '../src/postgres/migrate';
import { openDatabase } from '../src/postgres/open-database';
import { formatDuration } from './etl/format';
import { ADVISORY_LOCKS } from '../src/postgres/locks';

/**
 * `npm run db:refresh`: rebuilds every document view of the live catalog from its tables
 * with REFRESH ... CONCURRENTLY (readers keep reading the previous contents, never
 * blocked), empties the change sets' overlays, records a catalog version of its own, then
 * tells every worker to drop its cached documents.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config);
  const client = new pg.Client({ connectionString: db.url, application_name: 'atelier-products refresh' });
  try {
    await client.connect();
    // A reload builds its own views and swaps them in; refreshing the old ones meanwhile is wasted work.
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      ADVISORY_LOCKS.reload,
    ]);
    if (!rows[0]?.locked) {
      process.stderr.write('a catalog load is running: waiting for it to finish\n');
      await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.reload]);
    }
    // The overlays this refresh empties come with migration 006.
    await migrate(client);
    // The views aggregate whole tables: enough memory to keep the sorts and hashes in RAM.
    await client.query("SET work_mem = '256MB'");
    const populated = await client.query<{ matviewname: string; ispopulated: boolean }>(
      'SELECT matviewname, ispopulated FROM pg_matviews WHERE schemaname = $1',
      [CATALOG_SCHEMA],
    );
    // CONCURRENTLY needs a populated view; an unpopulated one cannot be read anyway.
    const concurrently = (view: string): boolean =>
      populated.rows.find((r) => r.matviewname === view)?.ispopulated !== false;
    // One transaction: the views take in every change set's rows and the overlays holding
    // their documents empty at the same commit, so no reader sees a change twice or not at all
    // (the listing's position shifts above all).
    await client.query('BEGIN');
    await refreshDocuments(client, {
      concurrently,
      onRefreshed: (view, ms) =>
        process.stdout.write(`${view} refreshed${concurrently(view) ? ' concurrently' : ''} in ${formatDuration(ms)}\n`),
    });
    const folded = await foldOverlays(client);
    // A version of its own (migration 009): a worker's listener that was disconnected while
    // this committed sees the newest version changed, and clears its cache (listener.ts).
    const version = (await catalogVersion(client)) + 1;
    await recordCatalogVersion(client, CATALOG_SCHEMA, { version, source: 'db:refresh', kind: 'refresh' });
    await notifyCatalogChanged(client, String(version));
    await client.query('COMMIT');
    if (folded > 0) process.stdout.write(`${folded} documents rebuilt by change sets folded into the views\n`);
    process.stdout.write(`catalog version ${version}: document caches told to clear\n`);
  } finally {
    await client.end().catch(() => undefined);
    await db.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`db:refresh failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
