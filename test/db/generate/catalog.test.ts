import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { FILES } from '../../../db/etl/files';
import { reloadCatalog, type ReloadResult } from '../../../db/etl/reload-catalog';
import { generateCatalog, type GenerateResult } from '../../../db/generate/catalog';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';

const PRODUCTS = 20_000;
// Higher than the default 0.05% so that every defect kind shows up many times in 20k products.
const RATE = 0.002;

const digest = (dir: string): string[] =>
  FILES.map((f) =>
    createHash('sha256')
      .update(fs.readFileSync(path.join(dir, f.file)))
      .digest('hex'),
  );

describe('Synthetic export generator', function () {
  this.timeout(120_000);
  let tmp: string;
  let generated: GenerateResult;
  let db: TestDatabase;
  let loaded: ReloadResult;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-gen-'));
    generated = await generateCatalog({ out: path.join(tmp, 'a'), products: PRODUCTS, seed: 42, defectRate: RATE });
    db = await createTestDatabase();
    loaded = await reloadCatalog({ url: db.url, dir: path.join(tmp, 'a'), rejectsPath: path.join(tmp, 'rejects.csv') });
  });

  after(async () => {
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when run twice with one seed, then the files are identical; with another seed, they differ', async () => {
    await generateCatalog({ out: path.join(tmp, 'b'), products: PRODUCTS, seed: 42, defectRate: RATE });
    await generateCatalog({ out: path.join(tmp, 'c'), products: PRODUCTS, seed: 43, defectRate: RATE });
    expect(digest(path.join(tmp, 'b'))).to.deep.equal(digest(path.join(tmp, 'a')));
    expect(digest(path.join(tmp, 'c'))).to.not.deep.equal(digest(path.join(tmp, 'a')));
  });

  it("when generating, then the files have the full export's proportions per parent", () => {
    const r = generated.records;
    const perProduct = (file: string): number => r[file]! / r['product.csv']!;
    const perStyle = (file: string): number => r[file]! / r['styles.csv']!;
    expect(r['product.csv']).to.be.within(PRODUCTS, PRODUCTS * 1.01);
    expect(perProduct('features.csv')).to.be.closeTo(2.22, 0.05);
    expect(perProduct('styles.csv')).to.be.closeTo(1.96, 0.05);
    expect(perProduct('related.csv')).to.be.closeTo(4.51, 0.08);
    expect(perStyle('photos.csv')).to.be.closeTo(2.89, 0.06);
    expect(perStyle('skus.csv')).to.be.closeTo(5.78, 0.1);
  });

  it('when generating, then every defect kind of csv-format.md is present', () => {
    const kinds = Object.keys(generated.defects);
    for (const file of ['features', 'styles', 'photos', 'skus', 'related']) {
      for (const kind of ['duplicate id', 'orphan', 'wrong field count']) expect(kinds).to.include(`${file}: ${kind}`);
    }
    expect(kinds).to.include.members([
      'product: duplicate id',
      'product: wrong field count',
      'product: non-numeric default_price',
      'product: multi-line description',
      'features: non-numeric product_id',
      'styles: non-numeric original_price',
      'styles: default_style true/false (loaded)',
      'photos: non-numeric styleId',
      'photos: unterminated thumbnail_url (loaded)',
      'skus: non-numeric quantity',
      'related: non-numeric related_product_id',
      'related: related_product_id 0 (dropped)',
    ]);
    for (const n of Object.values(generated.defects)) expect(n).to.be.greaterThan(5);
  });

  it('when loaded, then every record generated is read and the product rejects and related drops are exactly the injected ones', () => {
    const byFile = new Map(loaded.files.map((c) => [c.file, c]));
    for (const c of loaded.files) {
      expect(c.read, c.file).to.equal(generated.records[c.file]);
    }
    const d = generated.defects;
    expect(byFile.get('product.csv')!.rejected).to.equal(
      d['product: duplicate id']! + d['product: wrong field count']! + d['product: non-numeric default_price']!,
    );
    expect(byFile.get('related.csv')!.dropped).to.equal(d['related: related_product_id 0 (dropped)']);
  });

  it('when loaded, then field sizes are realistic: photo URLs of ~150 characters, descriptions of a few hundred', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ url: number; thumb: number; description: number; bad: number }>(
        `SELECT (SELECT avg(length(url)) FROM catalog.photos)::float AS url,
                (SELECT avg(length(thumbnail_url)) FROM catalog.photos)::float AS thumb,
                (SELECT avg(length(description)) FROM catalog.product)::float AS description,
                (SELECT count(*) FROM catalog.photos WHERE thumbnail_url ~ '["\\n]' OR url ~ '["\\n]')::int AS bad`,
      );
      expect(rows[0]!.url).to.be.within(140, 170);
      expect(rows[0]!.thumb).to.be.within(140, 170);
      expect(rows[0]!.description).to.be.within(200, 500);
      // Unterminated URLs load as the URL itself, never with a quote or the next line in it.
      expect(rows[0]!.bad).to.equal(0);
    } finally {
      await client.end();
    }
  });
});
