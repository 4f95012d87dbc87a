import type { ClientBase } from 'pg';
import { changesPayload } from '../../src/postgres/catalog-notice';
import { catalogVersion, CATALOG_CHANNEL, recordCatalogVersion } from '../../src/postgres/live-catalog';
import { EtlError } from './errors';
import type { Deletions } from './deletions';
import { rebuildList } from './list-rebuild';

/**
 * The SQL of one change set, run in one transaction on the connection holding the staged
 * rows (temporary tables `pg_temp.<table>`, loaded by load-file.ts) and the working tables
 * (WORKING_TABLES_SQL, made by the caller once per session).
 * Order: remove (a product with its features, styles, their photos and skus, and its related
 * rows; a style with its photos and skus), then insert or update parents before children,
 * then rebuild the documents of every product touched, before or after, into the overlays.
 */

export interface AppliedChanges {
  version: number;
  /** Products whose documents were rebuilt. */
  products: number;
  /** Documents (and list entries) whose bytes changed. */
  documents: number;
  /** Cache keys the workers drop, and the listing positions changed (catalog-notice.ts). */
  keys: string[];
}

// Tables of the staged rows and their columns besides id, in parent-before-child order.
// `written`: the documents a row actually written (inserted, or updated to different values)
// changes for certain, from the upsert's RETURNING rows (`w`): every column of these tables is
// rendered in those documents, one way per value, so their bytes differ without being compared
// with the served ones (a product row also gets a new updated_at). Not photos (a row without
// urls would render as the placeholder of a style without photos: the loader never writes one,
// the table allows it) nor related (the list drops ids that are no products, 0, the product
// itself, and repeats): their documents are compared.
const UPSERTS: Array<{ table: string; columns: string[]; touch?: string; written?: string }> = [
  {
    table: 'product',
    columns: ['name', 'slogan', 'description', 'category', 'default_price'],
    touch: 'updated_at = now()',
    written: "SELECT k.kind, w.id FROM w CROSS JOIN (VALUES ('p'), ('l')) k (kind)",
  },
  { table: 'styles', columns: ['product_id', 'name', 'sale_price', 'original_price', 'default_style'], written: "SELECT 's', product_id FROM w" },
  { table: 'features', columns: ['product_id', 'feature', 'value'], written: "SELECT 'p', product_id FROM w" },
  { table: 'photos', columns: ['style_id', 'url', 'thumbnail_url'] },
  { table: 'skus', columns: ['style_id', 'size', 'quantity'], written: "SELECT 's', s.product_id FROM catalog.styles s WHERE s.id = ANY (ARRAY(SELECT style_id FROM w))" },
  { table: 'related', columns: ['current_product_id', 'related_product_id'] },
];

/** Inserts new rows, updates changed ones (an identical row is left alone: its product's updated_at stays). */
const upsert = ({ table, columns, touch, written }: (typeof UPSERTS)[number]): string => {
  const list = columns.join(', ');
  const excluded = columns.map((c) => `EXCLUDED.${c}`).join(', ');
  const set = [...columns.map((c) => `${c} = EXCLUDED.${c}`), ...(touch ? [touch] : [])].join(', ');
  const write = `INSERT INTO catalog.${table} AS t (id, ${list}) SELECT id, ${list} FROM pg_temp.${table}
    ON CONFLICT (id) DO UPDATE SET ${set} WHERE (${columns.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${excluded})`;
  return written ? `WITH w AS (${write} RETURNING t.*) INSERT INTO pg_temp.affected (kind, id, sure) SELECT *, true FROM (${written}) x` : write;
};

const deleted = (table: string): string => `SELECT id FROM pg_temp.deleted WHERE tbl = '${table}'`;
const touched = (table: string): string => `SELECT id FROM pg_temp.${table} UNION ALL ${deleted(table)}`;

// The products each change concerns, read before the change (old parents) ... Rows are
// looked up by `id = ANY(array)`: the index scan sorts and deduplicates the ids and reads
// the index and heap in id order (rows were loaded in id order), where a hash of the ids
// probes them at random; with ids counted in the hundred thousands the planner would rather
// scan and hash the whole parent table. Photos and skus name their style: the styles are
// deduplicated before their products are looked up (10,000 products repriced name some
// 110,000 skus but 18,000 styles).
const byId = (table: string, ids: string): string => `SELECT * FROM catalog.${table} WHERE id = ANY (ARRAY(${ids}))`;
const AFFECTED_BEFORE = `INSERT INTO pg_temp.affected (kind, id)
  SELECT 'p', f.product_id FROM (${byId('features', touched('features'))}) f
  UNION ALL SELECT 's', s.product_id FROM (${byId('styles', 'SELECT id FROM pg_temp.styles UNION ALL SELECT id FROM pg_temp.del_styles')}) s
  UNION ALL SELECT 's', s.product_id FROM (${byId('styles', `SELECT x.style_id FROM (${byId('photos', touched('photos'))}) x`)}) s
  UNION ALL SELECT 's', s.product_id FROM (${byId('styles', `SELECT x.style_id FROM (${byId('skus', touched('skus'))}) x`)}) s
  UNION ALL SELECT 'r', r.current_product_id FROM (${byId('related', touched('related'))}) r
  UNION ALL SELECT k.kind, d.id FROM pg_temp.del_product d CROSS JOIN (VALUES ('p'), ('s'), ('r'), ('l')) k (kind)
  UNION ALL SELECT k.kind, x.id FROM pg_temp.product x CROSS JOIN (VALUES ('p'), ('l')) k (kind)`;

// ... and after it (new parents; products that came or went, and the related lists naming them).
const AFFECTED_AFTER = `WITH came_or_went AS (
    SELECT x.id FROM (SELECT id FROM pg_temp.product UNION SELECT id FROM pg_temp.del_product) x
      LEFT JOIN pg_temp.existed e ON e.id = x.id
      LEFT JOIN catalog.product p ON p.id = x.id
     WHERE (e.id IS NULL) <> (p.id IS NULL))
  INSERT INTO pg_temp.affected (kind, id)
  SELECT 'p', product_id FROM pg_temp.features
  UNION ALL SELECT 's', product_id FROM pg_temp.styles
  UNION ALL SELECT 's', s.product_id FROM (${byId('styles', 'SELECT style_id FROM pg_temp.photos UNION ALL SELECT style_id FROM pg_temp.skus')}) s
  UNION ALL SELECT 'r', current_product_id FROM pg_temp.related
  UNION ALL SELECT k.kind, c.id FROM came_or_went c CROSS JOIN (VALUES ('p'), ('s'), ('r'), ('l')) k (kind)
  UNION ALL SELECT 'r', r.current_product_id FROM catalog.related r WHERE r.related_product_id IN (SELECT id FROM came_or_went)`;

// Per kind of document: its cache-key letter, the per-product builder and the view (006).
const DOCUMENTS = [
  { key: 'p', build: 'product_docs', view: 'product_doc' },
  { key: 's', build: 'styles_docs', view: 'styles_doc' },
  { key: 'r', build: 'related_docs', view: 'related_doc' },
] as const;

/**
 * Rebuilds one kind's affected documents into doc_overlay; answers the ids whose bytes
 * changed: those changed for certain (affected rows marked `sure`), and those whose new
 * bytes differ from the served ones (the only ones whose served document is read).
 */
const rebuild = ({ key, build, view }: (typeof DOCUMENTS)[number]): string => `WITH a AS (
    SELECT id, bool_or(sure) AS sure FROM pg_temp.affected WHERE kind = '${key}' GROUP BY id
  ), n AS (
    SELECT a.id, d.body, a.sure FROM a LEFT JOIN catalog.${build}(ARRAY(SELECT id FROM a)) d ON d.id = a.id
  ), served AS (
    SELECT n.id, CASE WHEN o.kind IS NOT NULL THEN o.body ELSE v.body END AS body
      FROM n LEFT JOIN catalog.doc_overlay o ON o.kind = '${key}' AND o.id = n.id LEFT JOIN catalog.${view} v ON v.id = n.id
     WHERE NOT n.sure
  ), stored AS (
    INSERT INTO catalog.doc_overlay (kind, id, body) SELECT '${key}', id, body FROM n
    ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body
  )
  SELECT n.id FROM n LEFT JOIN served s ON s.id = n.id WHERE n.sure OR n.body IS DISTINCT FROM s.body ORDER BY n.id`;

// Tables of one transaction: rows removed (per file), products and styles removed (with the
// cascade), products that existed before, and the documents to rebuild (kind: cache-key
// letter; `sure`: changed for certain, from UPSERTS' `written`).
const WORKING_TABLES = [
  ['deleted', 'tbl text NOT NULL, id integer NOT NULL'],
  ['del_product', 'id integer NOT NULL'],
  ['del_styles', 'id integer NOT NULL'],
  ['existed', 'id integer NOT NULL'],
  ['affected', 'kind text NOT NULL, id integer NOT NULL, sure boolean NOT NULL DEFAULT false'],
] as const;

/**
 * The statements making a session's working tables (once per session, before its first
 * change set): emptied at every commit, so a long-lived session reuses them rather than
 * creating and dropping them every set.
 */
export const WORKING_TABLES_SQL = WORKING_TABLES.map(([table, columns]) => `CREATE TEMP TABLE ${table} (${columns}) ON COMMIT DELETE ROWS`);

/**
 * Applies the staged change set to the live catalog in one transaction, with its new
 * version recorded and the workers notified at commit. Refused (nothing changed) when the
 * live catalog is no longer at `baseVersion`.
 */
export async function applyChangeSet(
  client: ClientBase,
  opts: {
    deletions: Deletions;
    baseVersion: number;
    source: string;
    beforeCommit?: () => Promise<void>;
    /** Hears each step's time in ms (the CLI logs them). */
    onStep?: (step: string, ms: number) => void;
  },
): Promise<AppliedChanges> {
  let last = Date.now();
  const step = (name: string): void => {
    const now = Date.now();
    opts.onStep?.(name, now - last);
    last = now;
  };
  await client.query('BEGIN');
  try {
    const live = await catalogVersion(client);
    if (live !== opts.baseVersion) {
      throw new EtlError(`the change set was prepared against catalog version ${opts.baseVersion}, but version ${live} is live`);
    }
    for (const [table, rows] of opts.deletions) {
      if (rows.size > 0) await client.query('INSERT INTO pg_temp.deleted SELECT $1, unnest($2::int[])', [table, [...rows.keys()]]);
    }
    await client.query(`INSERT INTO pg_temp.del_product ${deleted('product')}`);
    await client.query(`INSERT INTO pg_temp.del_styles ${deleted('styles')} UNION SELECT s.id FROM catalog.styles s JOIN pg_temp.del_product d ON s.product_id = d.id`);
    await client.query(
      'INSERT INTO pg_temp.existed SELECT id FROM catalog.product WHERE id IN (SELECT id FROM pg_temp.product UNION ALL SELECT id FROM pg_temp.del_product)',
    );
    // Temporary tables get no statistics of their own: without them the planner guesses their
    // size and may scan the 11M skus instead of probing them by id.
    await client.query(`ANALYZE ${['product', 'features', 'styles', 'photos', 'skus', 'related', 'deleted', 'del_product', 'del_styles', 'existed'].map((t) => `pg_temp.${t}`).join(', ')}`);
    step('staged rows analyzed');
    await client.query(AFFECTED_BEFORE);
    step('products touched, before');

    // Children before parents, for the foreign keys. One condition per statement: an OR of
    // two would keep the planner from probing either index and scan the whole table.
    const removals = [
      `DELETE FROM catalog.skus WHERE id IN (${deleted('skus')})`,
      'DELETE FROM catalog.skus WHERE style_id IN (SELECT id FROM pg_temp.del_styles)',
      `DELETE FROM catalog.photos WHERE id IN (${deleted('photos')})`,
      'DELETE FROM catalog.photos WHERE style_id IN (SELECT id FROM pg_temp.del_styles)',
      'DELETE FROM catalog.styles WHERE id IN (SELECT id FROM pg_temp.del_styles)',
      `DELETE FROM catalog.features WHERE id IN (${deleted('features')})`,
      'DELETE FROM catalog.features WHERE product_id IN (SELECT id FROM pg_temp.del_product)',
      `DELETE FROM catalog.related WHERE id IN (${deleted('related')})`,
      'DELETE FROM catalog.related WHERE current_product_id IN (SELECT id FROM pg_temp.del_product)',
      'DELETE FROM catalog.product WHERE id IN (SELECT id FROM pg_temp.del_product)',
    ];
    if ([...opts.deletions.values()].some((rows) => rows.size > 0)) for (const sql of removals) await client.query(sql);
    step('rows removed');
    for (const spec of UPSERTS) {
      await client.query(upsert(spec));
      step(`${spec.table} rows written`);
    }
    await client.query('ANALYZE pg_temp.affected');
    await client.query(AFFECTED_AFTER);
    await client.query('ANALYZE pg_temp.affected');
    step('products touched, after');

    const keys: string[] = [];
    for (const kind of DOCUMENTS) {
      const { rows } = await client.query<{ id: number }>(rebuild(kind));
      for (const r of rows) keys.push(kind.key + r.id);
      step(`${kind.view} rebuilt`);
    }
    const list = await rebuildList(client);
    step('list entries rebuilt');
    const documents = keys.length + list.changed;
    keys.push(...list.keys);
    const { rows: counted } = await client.query<{ products: number }>('SELECT count(DISTINCT id)::int AS products FROM pg_temp.affected');
    const products = counted[0]?.products ?? 0;

    const version = live + 1;
    await recordCatalogVersion(client, 'catalog', { version, source: opts.source, kind: 'changes' });
    await client.query('INSERT INTO catalog.catalog_changes (version, source, products, documents, keys) VALUES ($1, $2, $3, $4, $5)', [
      version,
      opts.source,
      products,
      documents,
      keys,
    ]);
    await client.query('SELECT pg_notify($1, $2)', [CATALOG_CHANNEL, changesPayload(version, keys)]);
    await opts.beforeCommit?.();
    await client.query('COMMIT');
    step('committed');
    return { version, products, documents, keys };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
