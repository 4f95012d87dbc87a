import fs from 'node:fs';
import path from 'node:path';
import { escapeIdentifier, type ClientBase } from 'pg';
import { dbDir } from '../project-paths';
import { ADVISORY_LOCKS } from './locks';

/** The live catalog's schema. Reloads build another schema and rename it to this one. */
export const CATALOG_SCHEMA = 'catalog';

export interface MigrationResult {
  applied: string[];
}

export function migrationFiles(): string[] {
  const dir = path.join(dbDir(), 'migrations');
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort();
}

/**
 * Applies the numbered migrations of db/migrations that `schema` has not had yet, each in
 * its own transaction with search_path set to that schema. Idempotent; safe to run from
 * several instances at once (an advisory lock serialises them).
 */
export async function migrate(client: ClientBase, schema: string = CATALOG_SCHEMA): Promise<MigrationResult> {
  const applied: string[] = [];
  await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migration]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS public.schema_migrations (
      schema_name text NOT NULL,
      name        text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (schema_name, name))`);
    const done = await client.query<{ name: string }>('SELECT name FROM public.schema_migrations WHERE schema_name = $1', [schema]);
    const seen = new Set(done.rows.map((r) => r.name));
    for (const file of migrationFiles()) {
      if (seen.has(file)) continue;
      const sql = fs.readFileSync(path.join(dbDir(), 'migrations', file), 'utf8');
      await client.query('BEGIN');
      try {
        // Identifiers cannot be query parameters: quoted, the schema name is one name, never SQL.
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(schema)}`);
        await client.query(`SET LOCAL search_path TO ${escapeIdentifier(schema)}`);
        await client.query(sql);
        await client.query('INSERT INTO public.schema_migrations (schema_name, name) VALUES ($1, $2)', [schema, file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migration]);
  }
  return { applied };
}
