import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { reloadCatalog, type ReloadResult } from '../../../db/etl/reload-catalog';
import { createTestDatabase, queryRows, type TestDatabase } from '../../support/postgres';
import { EXPECTED_COUNTS, EXPECTED_REJECTS, FIXTURE_DIR, readRejects } from './fixture';

/** Index and constraint definitions of a catalog schema, for comparing two databases. */
async function schemaShape(url: string, schema: string): Promise<unknown[][]> {
  return queryRows(
    url,
    `SELECT 'index', tablename, indexname, replace(indexdef, '${schema}.', 'S.') FROM pg_indexes
      WHERE schemaname = '${schema}' AND tablename <> 'etl_load_summary'
     UNION ALL
     SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid) || ' ' || convalidated
       FROM pg_constraint WHERE connamespace = '${schema}'::regnamespace AND contype IN ('p', 'u', 'f')
        AND conrelid::regclass::text <> '${schema}.etl_load_summary'
     ORDER BY 1, 2, 3`,
  );
}

describe('ETL of the defect fixture', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let reference: TestDatabase;
  let tmp: string;
  let result: ReloadResult;

  before(async () => {
    [db, reference] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-etl-'));
    result = await reloadCatalog({ url: db.url, dir: FIXTURE_DIR, rejectsPath: path.join(tmp, 'rejects.csv') });
  });

  after(async () => {
    await Promise.all([db?.drop(), reference?.drop()]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when every defect is present, then each file reconciles: read = loaded + rejected + dropped', () => {
    expect(result.files).to.deep.equal(EXPECTED_COUNTS);
    expect(result.version).to.equal(1);
  });

  it('when records are rejected, then the rejects file names each with file, starting line and reason', () => {
    expect(readRejects(result.rejectsPath)).to.deep.equal(EXPECTED_REJECTS);
  });

  it('when products load, then quoting, multi-line text, "" escapes, decimals and the literal null are kept as text', async () => {
    expect(
      await queryRows(
        db.url,
        'SELECT id, name, slogan, description, category, default_price::text FROM catalog.product ORDER BY id',
      ),
    ).to.deep.equal([
      [
        1,
        'Camo Onesie',
        'Blend in to your crowd',
        'The So Fatigues will wake you up, and fit you in.',
        'Jackets',
        '140.00',
      ],
      [
        2,
        'Bright Future Sunglasses',
        "You've got to wear shades",
        "Where you're going\nyou might not need roads.\nLine three.",
        'Accessories',
        '69.00',
      ],
      [3, 'Morning Joggers', 'Make yourself a morning person', 'He said "hello" to "comfort".', 'Pants', '40.50'],
      [
        4,
        "Slacker's Slacks",
        'Comfortable for everything, or nothing',
        "I'll tell you how great they are after I nap for a bit.",
        'Pants',
        '65.00',
      ],
      [9, 'No Styles', 'Nothing to see', 'A product without features, styles or related rows', 'Hats', '0.00'],
      // Only sale_price and features' value map `null` to NULL (csv-format.md); elsewhere it is text.
      [11, 'Unquoted Name', 'null', '', 'Hats', '15.50'],
    ]);
  });

  it('when features load, then an unquoted null is NULL and a quoted "null" or "" is text', async () => {
    expect(await queryRows(db.url, 'SELECT id, product_id, feature, value FROM catalog.features ORDER BY id')).to.deep.equal(
      [
        [1, 1, 'Fabric', 'Canvas'],
        [2, 1, 'Buttons', 'Brass'],
        [3, 2, 'Lenses', 'Ultrasheen'],
        [4, 2, 'UV Protection', null],
        [5, 3, 'Material', '"Chrome" finish'],
        [10, 4, 'Multi', 'line one\nline two'],
        [11, 4, 'Empty', ''],
        [12, 4, 'Quoted null', 'null'],
      ],
    );
  });

  it('when styles load, then null sale prices are NULL and 1/0/true/false are booleans', async () => {
    const sql =
      'SELECT id, product_id, name, sale_price::text, original_price::text, default_style FROM catalog.styles ORDER BY id';
    expect(await queryRows(db.url, sql)).to.deep.equal([
      [1, 1, 'Forest Green & Black', null, '140.00', true],
      [2, 1, 'Desert Brown & Tan', '100.00', '140.00', false],
      [3, 2, 'Black Lenses & Black Frame', null, '69.00', true],
      [4, 2, 'Black Lenses & Gold Frame', '50.50', '69.00', false],
      [5, 3, 'Heather Grey', null, '40.50', true],
      [11, 4, 'Khaki', null, '65.00', true],
      [12, 4, 'Navy', null, '65.00', false],
    ]);
  });

  it('when a photo URL is unterminated, then it ends at the end of its line and the row loads', async () => {
    expect(await queryRows(db.url, 'SELECT id, style_id, url, thumbnail_url FROM catalog.photos ORDER BY id')).to.deep.equal(
      [
        [1, 1, 'https://img.example/1.jpg', 'https://img.example/1t.jpg'],
        [2, 1, 'https://img.example/2.jpg', 'https://img.example/2t.jpg'],
        [3, 2, 'https://img.example/3.jpg', 'https://img.example/3t.jpg'],
        [5, 3, 'https://img.example/5.jpg', 'https://img.example/5t.jpg'],
        [8, 11, 'https://img.example/8.jpg', ''],
      ],
    );
  });

  it('when skus and related rows load, then orphans are gone and related 0 rows are dropped', async () => {
    expect(await queryRows(db.url, 'SELECT id, style_id, size, quantity FROM catalog.skus ORDER BY id')).to.deep.equal([
      [1, 1, 'XS', 8],
      [2, 1, 'S', 16],
      [3, 1, 'M', 0],
      [4, 2, 'XL', 4],
      [9, 5, '7.5', 12],
      [12, 11, 'L', 3],
    ]);
    expect(
      await queryRows(db.url, 'SELECT id, current_product_id, related_product_id FROM catalog.related ORDER BY id'),
    ).to.deep.equal([
      [1, 1, 2],
      [2, 1, 3],
      [4, 1, 1],
      [5, 1, 2],
      [6, 1, 777],
      [12, 2, 1],
      [13, 4, 9],
    ]);
  });

  it('when the load is done, then the live schema has exactly the indexes, keys and migrations of a fresh migration', async () => {
    expect(await schemaShape(db.url, 'catalog')).to.deep.equal(await schemaShape(reference.url, 'catalog'));
    const migrations = 'SELECT schema_name, name FROM public.schema_migrations ORDER BY 1, 2';
    expect(await queryRows(db.url, migrations)).to.deep.equal(await queryRows(reference.url, migrations));
    expect(
      await queryRows(db.url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%' ORDER BY 1"),
    ).to.deep.equal([['catalog']]);
    expect(await queryRows(db.url, 'SELECT version, source FROM catalog.catalog_info')).to.deep.equal([
      ['1', `CSV export ${FIXTURE_DIR}, campus hr-rfp`],
    ]);
    // The counts the service exports as metrics came along with the catalog.
    const summary =
      'SELECT file, rows_loaded::int, rows_rejected::int, rows_dropped::int FROM catalog.etl_load_summary ORDER BY file';
    expect(await queryRows(db.url, summary)).to.deep.equal(
      [...EXPECTED_COUNTS]
        .sort((a, b) => a.file.localeCompare(b.file))
        .map((c) => [c.file, c.loaded, c.rejected, c.dropped]),
    );
  });
});
