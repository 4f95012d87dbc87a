import type pg from 'pg';
import { changesPayload, parseCatalogNotice } from '../../src/postgres/catalog-notice';
import { catalogVersion, notifyCatalogChanged, recordCatalogVersion } from '../../src/postgres/live-catalog';
import { ADVISORY_LOCKS } from '../../src/postgres/locks';
import { CATALOG_SCHEMA } from '../../src/postgres/migrate';
import { NEXT_SCHEMA, OLD_SCHEMA } from './schema';

/**
 * Makes the built catalog live in one transaction: records its version, renames
 * `catalog` → `catalog_old` and `catalog_next` → `catalog`, moves the migration records
 * with the schema, and notifies the service (delivered at commit). Readers see either
 * catalog, never a mix: a query's snapshot and name lookup come before or after the
 * commit, and the rename invalidates every cached plan, so named statements re-resolve
 * `catalog.<view>` on their next execution. `changed`: the cache keys the new catalog
 * changes (reload-diff.ts), announced as a change set's are, so the workers keep the rest;
 * undefined, they clear everything. Returns the new version.
 */
export async function swapCatalog(client: pg.ClientBase, source: string, changed?: readonly string[]): Promise<number> {
  await client.query('BEGIN');
  try {
    // Renames need no lock on the tables; this bounds only the wait for the migration lock,
    // which keeps a starting service's migration off a schema while the schemas change names.
    await client.query("SET LOCAL lock_timeout = '60s'");
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.migration]);
    const version = (await catalogVersion(client)) + 1;
    await recordCatalogVersion(client, NEXT_SCHEMA, { version, source, kind: 'load' });
    const payload = changed === undefined ? String(version) : changesPayload(version, changed);
    // Keys too many for the notification: stored with the catalog they describe.
    if (changed !== undefined && parseCatalogNotice(payload).kind === 'changes-stored') {
      await client.query(`INSERT INTO ${NEXT_SCHEMA}.catalog_load_keys (version, keys) VALUES ($1, $2)`, [version, changed]);
    }
    await client.query(`ALTER SCHEMA ${CATALOG_SCHEMA} RENAME TO ${OLD_SCHEMA}`);
    await client.query(`ALTER SCHEMA ${NEXT_SCHEMA} RENAME TO ${CATALOG_SCHEMA}`);
    await client.query('DELETE FROM public.schema_migrations WHERE schema_name = ANY($1)', [
      [CATALOG_SCHEMA, OLD_SCHEMA],
    ]);
    await client.query('UPDATE public.schema_migrations SET schema_name = $1 WHERE schema_name = $2', [
      CATALOG_SCHEMA,
      NEXT_SCHEMA,
    ]);
    await notifyCatalogChanged(client, payload);
    await client.query('COMMIT');
    return version;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Drops the previous catalog. Waits (up to 30 s per try) for readers still inside a
 * query on it; their next query already resolves to the new catalog.
 */
export async function dropOldCatalog(client: pg.ClientBase): Promise<void> {
  await client.query("SET lock_timeout = '30s'");
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${OLD_SCHEMA} CASCADE`);
  } finally {
    await client.query('RESET lock_timeout');
  }
}
