import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { CATALOG_SCHEMA } from './migrate';
import { dbDir } from '../project-paths';

/** Materialized views holding the response documents, in dependency-free order. */
export const DOCUMENT_VIEWS = ['product_doc', 'product_list_doc', 'styles_doc', 'related_doc'] as const;

/** Channel on which catalog changes are announced; payload: the new catalog version. */
export const CATALOG_CHANNEL = 'atelier_catalog_changed';

/** Resolves when a catalog is loaded; rejects (with a reason) when it is not. */
export async function checkCatalogLoaded(db: pg.Pool | pg.ClientBase): Promise<void> {
  const { rows } = await db.query<{ loaded: boolean }>({
    name: 'atelier_ready',
    text: 'SELECT EXISTS (SELECT 1 FROM catalog.catalog_info) AS loaded',
  });
  if (!rows[0]?.loaded) throw new Error('catalog not loaded');
}

/** Whether the live catalog holds no product at all. */
export async function isCatalogEmpty(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ empty: boolean }>(
    `SELECT NOT EXISTS (SELECT 1 FROM ${CATALOG_SCHEMA}.product) AND NOT EXISTS (SELECT 1 FROM ${CATALOG_SCHEMA}.catalog_info) AS empty`,
  );
  return rows[0]?.empty ?? true;
}

/**
 * Rebuilds every document view; CONCURRENTLY keeps readers unblocked (needs a populated view,
 * hence the choice per view). `onRefreshed` hears of each view as it is done, with its time.
 */
export async function refreshDocuments(
  client: pg.ClientBase,
  opts: {
    concurrently: boolean | ((view: string) => boolean);
    onRefreshed?: (view: string, ms: number) => void;
  },
): Promise<void> {
  for (const view of DOCUMENT_VIEWS) {
    const concurrently = typeof opts.concurrently === 'function' ? opts.concurrently(view) : opts.concurrently;
    const started = Date.now();
    await client.query(`REFRESH MATERIALIZED VIEW ${concurrently ? 'CONCURRENTLY ' : ''}${CATALOG_SCHEMA}.${view}`);
    opts.onRefreshed?.(view, Date.now() - started);
  }
}

/**
 * Empties the overlays of documents rebuilt by change sets (db/migrations/006), once the
 * views have been refreshed from the same tables in the caller's transaction. Returns the
 * rows removed.
 */
export async function foldOverlays(client: pg.ClientBase): Promise<number> {
  const docs = await client.query(`DELETE FROM ${CATALOG_SCHEMA}.doc_overlay`);
  const list = await client.query(`DELETE FROM ${CATALOG_SCHEMA}.list_overlay`);
  await client.query(`DELETE FROM ${CATALOG_SCHEMA}.list_moves`);
  return (docs.rowCount ?? 0) + (list.rowCount ?? 0);
}

/**
 * Loads the built-in sample (db/sample.sql) into the empty live catalog, builds its
 * documents and records it, all in one transaction, then announces the new catalog.
 * Returns the number of products loaded.
 */
export async function loadSample(client: pg.ClientBase, products: number): Promise<number> {
  const sql = fs.readFileSync(path.join(dbDir(), 'sample.sql'), 'utf8');
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL search_path TO ${CATALOG_SCHEMA}`);
    await client.query("SELECT set_config('atelier.sample_products', $1, true)", [String(products)]);
    await client.query(sql);
    await refreshDocuments(client, { concurrently: false });
    const { rows } = await client.query<{ count: string }>('SELECT count(*) AS count FROM product');
    await recordCatalogVersion(client, CATALOG_SCHEMA, { version: 1, source: `built-in sample (${products} ids)`, kind: 'load' });
    await notifyCatalogChanged(client, '1');
    await client.query('COMMIT');
    return Number(rows[0]?.count ?? 0);
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** Announces a catalog change on CATALOG_CHANNEL; listeners get it when the transaction commits. */
export async function notifyCatalogChanged(client: pg.ClientBase, version: string): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [CATALOG_CHANNEL, version]);
}

/** What committed a catalog version: a full load (or the sample), a change set, `db:refresh`. */
export type CatalogVersionKind = 'load' | 'changes' | 'refresh';

/**
 * Records `version` in `schema`'s catalog_info, in the caller's transaction: every commit that
 * changes documents adds one row, under the next version of one sequence (migration 009), which
 * is what a reconnecting listener compares (listener.ts).
 */
export async function recordCatalogVersion(
  client: pg.ClientBase,
  schema: string,
  row: { version: number; source: string; kind: CatalogVersionKind },
): Promise<void> {
  await client.query(`INSERT INTO ${schema}.catalog_info (version, source, kind) VALUES ($1, $2, $3)`, [row.version, row.source, row.kind]);
}

/** The live catalog's version (its latest catalog_info row), or 0 when none is loaded. */
export async function catalogVersion(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ version: string }>(
    `SELECT coalesce(max(version), 0) AS version FROM ${CATALOG_SCHEMA}.catalog_info`,
  );
  return Number(rows[0]?.version ?? 0);
}
