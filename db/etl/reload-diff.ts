import type pg from 'pg';
import { listChangeKey, mergeListChanges } from '../../src/postgres/catalog-notice';
import { catalogVersion } from '../../src/postgres/live-catalog';
import { CATALOG_SCHEMA } from '../../src/postgres/migrate';
import { NEXT_SCHEMA } from './schema';

/**
 * What a full reload changes for the workers' caches: a daily export mostly repeats the
 * catalog it replaces, so rather than every worker emptying its cache at the swap (and the
 * whole hot set coming back from PostgreSQL at once, as misses), the load compares the
 * catalog it built with the one being served and names the documents whose bytes differ.
 * The workers drop those and keep the rest, as after a change set.
 */

/**
 * Products the live catalog already has keep their `created_at`, and their `updated_at`
 * unless a field of the product row changed (the rule change sets follow, change-set.ts):
 * a product is not new each time the export is loaded again, and its documents stay the
 * same bytes. Runs on the loaded tables before their indexes exist (no index to update).
 * Returns the products carried over.
 */
export async function carryTimestamps(client: pg.ClientBase): Promise<number> {
  const { rowCount } = await client.query(`UPDATE ${NEXT_SCHEMA}.product n
       SET created_at = o.created_at,
           updated_at = CASE WHEN (n.name, n.slogan, n.description, n.category, n.default_price)
                                  IS NOT DISTINCT FROM (o.name, o.slogan, o.description, o.category, o.default_price)
                             THEN o.updated_at ELSE n.updated_at END
      FROM ${CATALOG_SCHEMA}.product o
     WHERE o.id = n.id`);
  return rowCount ?? 0;
}

// Per kind of document: its cache-key letter and view (db/migrations/003, 006).
const DOCUMENTS = [
  { key: 'p', view: 'product_doc' },
  { key: 's', view: 'styles_doc' },
  { key: 'r', view: 'related_doc' },
] as const;

/**
 * Beyond this many keys the workers clear their caches instead: a worker holds some 50–100k
 * documents, so a longer list drops about as much and costs a statement of that size to read.
 */
export const MAX_RELOAD_KEYS = 100_000;

/** The ids of one kind whose document differs between the served catalog (its view under the change sets' overlay) and the built one, at most `limit`. */
async function changedDocuments(client: pg.ClientBase, { key, view }: (typeof DOCUMENTS)[number], limit: number): Promise<number[]> {
  const live = CATALOG_SCHEMA;
  const { rows } = await client.query<{ id: number }>(
    `SELECT coalesce(n.id, o.id) AS id
       FROM ${NEXT_SCHEMA}.${view} n
       FULL JOIN (SELECT v.id, coalesce(x.body, v.body) AS body
                    FROM ${live}.${view} v LEFT JOIN ${live}.doc_overlay x ON x.kind = $1 AND x.id = v.id
                   WHERE x.id IS NULL OR x.body IS NOT NULL
                  UNION ALL
                  SELECT x.id, x.body FROM ${live}.doc_overlay x
                   WHERE x.kind = $1 AND x.body IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${live}.${view} v WHERE v.id = x.id)) o
         ON o.id = n.id
      WHERE n.body IS DISTINCT FROM o.body
      LIMIT $2`,
    [key, limit],
  );
  return rows.map((r) => r.id);
}

/**
 * The listing positions whose entry differs, as cache keys (ranges merged), or `['l']` (every
 * page) when change sets have moved or rebuilt entries since the served listing was built
 * (its positions are then the view's shifted by those moves, not worth comparing here) or
 * when `limit` positions or more differ.
 */
async function changedListing(client: pg.ClientBase, limit: number): Promise<string[]> {
  const live = CATALOG_SCHEMA;
  const { rows: overlaid } = await client.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${live}.list_overlay) OR EXISTS (SELECT 1 FROM ${live}.list_moves) AS any`,
  );
  if (overlaid[0]?.any) return ['l'];
  const { rows } = await client.query<{ pos: string }>(
    `SELECT coalesce(n.pos, o.pos) AS pos
       FROM ${NEXT_SCHEMA}.product_list_doc n FULL JOIN ${live}.product_list_doc o ON o.pos = n.pos
      WHERE n.body IS DISTINCT FROM o.body
      LIMIT $1`,
    [limit],
  );
  if (rows.length >= limit) return ['l'];
  return mergeListChanges(rows.map((r) => ({ from: Number(r.pos), to: Number(r.pos) }))).map(listChangeKey);
}

/**
 * The cache keys (catalog-notice.ts) whose documents the built catalog changes against the
 * served one, or undefined when the workers should clear everything: no catalog served yet
 * (nothing cached), or more than `maxKeys` changed. Run with the reload lock held, so no
 * change set moves the served catalog meanwhile.
 */
export async function changedKeys(client: pg.ClientBase, maxKeys = MAX_RELOAD_KEYS): Promise<string[] | undefined> {
  if ((await catalogVersion(client)) === 0) return undefined;
  const keys: string[] = [];
  for (const kind of DOCUMENTS) {
    const ids = await changedDocuments(client, kind, maxKeys + 1 - keys.length);
    for (const id of ids) keys.push(kind.key + id);
    if (keys.length > maxKeys) return undefined;
  }
  keys.push(...(await changedListing(client, MAX_RELOAD_KEYS)));
  return keys.length > maxKeys ? undefined : keys;
}
