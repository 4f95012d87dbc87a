import type pg from 'pg';
import { migrate } from '../../src/postgres/migrate';
import { FILES } from './files';
import type { Task } from './tasks';

/** Schema a reload builds beside the live `catalog`. */
export const NEXT_SCHEMA = 'catalog_next';
/** Name the live catalog takes during the swap, dropped right after. */
export const OLD_SCHEMA = 'catalog_old';

const TABLES = FILES.map((f) => f.table);

/** Index and constraint definitions taken off the tables for the load, to be rebuilt after it. */
export interface DeferredDdl {
  /** Per table: primary key, then the other indexes (one task each, tables in parallel). */
  indexes: Array<{ table: string; statements: string[] }>;
  /** Foreign keys, added once every index exists. */
  foreignKeys: Array<{ table: string; statement: string }>;
}

/** Drops a schema left by a killed or failed load, and its migration records. */
export async function dropSchema(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.query('DELETE FROM public.schema_migrations WHERE schema_name = $1', [schema]);
}

/**
 * Builds an empty catalog in `schema` with every migration, then takes the indexes and
 * constraints off its six tables: COPY into bare heaps and building each index once over
 * the full table is several times faster than maintaining them row by row.
 * The definitions come from the catalog itself, so they follow any future migration.
 */
export async function prepareSchema(client: pg.ClientBase, schema: string): Promise<DeferredDdl> {
  await dropSchema(client, schema);
  await migrate(client, schema);

  await client.query('BEGIN');
  try {
    // Empty search_path: every name in the definitions comes out schema-qualified.
    await client.query("SET LOCAL search_path = ''");
    const constraints = await client.query<{ table: string; name: string; type: string; def: string }>(
      `SELECT c.relname AS table, con.conname AS name, con.contype AS type, pg_get_constraintdef(con.oid) AS def
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        WHERE c.relnamespace = $1::regnamespace AND c.relname = ANY($2) AND con.contype IN ('p', 'u', 'f')
        ORDER BY con.contype DESC, c.relname, con.conname`,
      [schema, TABLES],
    );
    const indexes = await client.query<{ table: string; name: string; def: string }>(
      `SELECT c.relname AS table, i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
         FROM pg_index x
         JOIN pg_class c ON c.oid = x.indrelid
         JOIN pg_class i ON i.oid = x.indexrelid
        WHERE c.relnamespace = $1::regnamespace AND c.relname = ANY($2)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                           WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x'))
        ORDER BY c.relname, i.relname`,
      [schema, TABLES],
    );

    const ddl: DeferredDdl = { indexes: [], foreignKeys: [] };
    const forTable = (table: string): string[] => {
      let entry = ddl.indexes.find((e) => e.table === table);
      if (!entry) ddl.indexes.push((entry = { table, statements: [] }));
      return entry.statements;
    };
    const fks = constraints.rows.filter((r) => r.type === 'f');
    const keys = constraints.rows.filter((r) => r.type !== 'f');
    for (const fk of fks) {
      await client.query(`ALTER TABLE ${schema}.${fk.table} DROP CONSTRAINT ${fk.name}`);
      ddl.foreignKeys.push({
        table: fk.table,
        statement: `ALTER TABLE ${schema}.${fk.table} ADD CONSTRAINT ${fk.name} ${fk.def}`,
      });
    }
    for (const ix of indexes.rows) {
      await client.query(`DROP INDEX ${schema}.${ix.name}`);
    }
    for (const key of keys) {
      await client.query(`ALTER TABLE ${schema}.${key.table} DROP CONSTRAINT ${key.name}`);
      forTable(key.table).push(`ALTER TABLE ${schema}.${key.table} ADD CONSTRAINT ${key.name} ${key.def}`);
    }
    for (const ix of indexes.rows) forTable(ix.table).push(ix.def);
    await client.query('COMMIT');
    return ddl;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** Tasks rebuilding the deferred indexes: one per table (primary key first), largest tables first. */
export function indexTasks(ddl: DeferredDdl, rowsByTable: ReadonlyMap<string, number>): Task[] {
  const bySize = [...ddl.indexes].sort((a, b) => (rowsByTable.get(b.table) ?? 0) - (rowsByTable.get(a.table) ?? 0));
  return bySize.map((entry) => ({
    name: `indexes ${entry.table}`,
    run: async (client) => {
      for (const statement of entry.statements) await client.query(statement);
    },
  }));
}

/**
 * Tasks adding the deferred foreign keys (each validated against the loaded rows; needs
 * the primary keys). They lock nothing the document views' build reads (SHARE ROW
 * EXCLUSIVE against its ACCESS SHARE), so they run beside it.
 */
export function foreignKeyTasks(ddl: DeferredDdl): Task[] {
  return ddl.foreignKeys.map((fk, i) => ({
    name: `foreign key ${i} ${fk.table}`,
    run: async (client) => {
      await client.query(fk.statement);
    },
  }));
}
