import pg from 'pg';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/postgres/open-database';
import { migrate } from '../src/postgres/migrate';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
async function main(): Promise<void> {
  const db = await openDatabase(loadConfig());
  const client = new pg.Client({ connectionString: db.url, application_name: 'atelier-products migrate' });
  try {
    await client.connect();
    const { applied } = await migrate(client);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await client.end().catch(() => undefined);
    await db.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`db:migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
