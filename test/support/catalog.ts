import pg from 'pg';
import { refreshDocuments } from '../../src/postgres/live-catalog';

/** Rows of a small catalog, written straight into the normalized tables. */
export interface CatalogFixture {
  products: Array<{ id: number; name: string; slogan?: string | null; description?: string | null; category?: string | null; default_price: string | number }>;
  features?: Array<{ id: number; product_id: number; feature: string; value: string | null }>;
  styles?: Array<{ id: number; product_id: number; name: string; sale_price: string | number | null; original_price: string | number; default_style: boolean }>;
  photos?: Array<{ id: number; style_id: number; url: string | null; thumbnail_url: string | null }>;
  skus?: Array<{ id: number; style_id: number; size: string | null; quantity: number }>;
  related?: Array<{ id: number; current_product_id: number; related_product_id: number }>;
}

const FIXED_TIME = '2026-11-20T10:00:00.000Z';

async function insert(client: pg.ClientBase, table: string, rows: object[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  // json_populate_recordset keeps this one parameterised statement whatever the row count.
  await client.query(
    `INSERT INTO catalog.${table} (${columns.join(',')})
     SELECT ${columns.join(',')} FROM json_populate_recordset(NULL::catalog.${table}, $1)`,
    [JSON.stringify(rows)],
  );
}

/** Loads `fixture` into the migrated database at `url` and builds its documents. */
export async function loadCatalog(url: string, fixture: CatalogFixture, version = 1): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await insert(
      client,
      'product',
      fixture.products.map((p) => ({
        slogan: null, description: null, category: null, ...p, created_at: FIXED_TIME, updated_at: FIXED_TIME,
      })),
    );
    await insert(client, 'features', fixture.features ?? []);
    await insert(client, 'styles', fixture.styles ?? []);
    await insert(client, 'photos', fixture.photos ?? []);
    await insert(client, 'skus', fixture.skus ?? []);
    await insert(client, 'related', fixture.related ?? []);
    await refreshDocuments(client, { concurrently: false });
    await client.query('INSERT INTO catalog.catalog_info (version, source) VALUES ($1, $2)', [version, 'test fixture']);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}
