import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createRandom } from '../../db/generate/prng';
import type { BenchFile } from '../../loadtest/bench/context';
import { writePageViewPaths } from '../../loadtest/bench/page-view-paths';
import { expandPageView, pageViewModel } from '../../loadtest/lib/page-views';
import { drawPageViews } from '../../loadtest/lib/traffic';
import { loadCatalog } from '../support/catalog';
import { FIXTURE } from '../support/fixture';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const file = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../loadtest/scenarios.json'), 'utf8')) as BenchFile;
const storefront = pageViewModel(file.pageViews, 'storefront');
const threeDocuments = pageViewModel(file.pageViews, 'three-documents');

describe('page-view models (scenarios.json pageViews)', () => {
  it('when a product page is expanded with the storefront model, then it asks as the observed front end does: P, styles twice, related, then R and R/styles for each related id as listed', () => {
    const paths = expandPageView({ productId: 7, expect: 200 }, storefront, () => [3, 9, 3]).map((r) => r.path);
    expect(paths).to.deep.equal([
      '/products/7',
      '/products/7/styles',
      '/products/7/styles',
      '/products/7/related',
      '/products/3',
      '/products/3/styles',
      '/products/9',
      '/products/9/styles',
      '/products/3',
      '/products/3/styles',
    ]);
    // An unknown id's page stops at its 404s; a listing page is one request whatever the model.
    expect(expandPageView({ productId: 99, expect: 404 }, storefront, () => [1]).map((r) => r.expect)).to.deep.equal([
      404, 404, 404, 404,
    ]);
    expect(
      expandPageView(
        { listing: { path: '/products?page=1&count=5', expect: 200, name: 'listing' } },
        storefront,
        () => [1],
      ),
    ).to.have.length(1);
    expect(file.pageViews.default).to.equal('storefront');
  });

  it('when the three-documents model is drawn, then it is the earlier mix: product, styles and related of the drawn product, or the listing page', () => {
    const shape = { size: 1000, idAt: (p: number) => p + 1, maxId: 1000 };
    const draw = drawPageViews(shape, file.traffic, createRandom(5).next);
    let listings = 0;
    for (let i = 0; i < 2000; i++) {
      const view = draw();
      const paths = expandPageView(view, threeDocuments, () => [1, 2]).map((r) => r.path);
      if ('listing' in view) {
        listings++;
        expect(paths).to.deep.equal([view.listing.path]);
      } else expect(paths).to.deep.equal([`/products/${view.productId}`, `/products/${view.productId}/styles`, `/products/${view.productId}/related`]);
    }
    expect(listings, 'listing pages drawn').to.be.above(0);
  });

  it('when an unknown model is named, then the error lists the known ones', () => {
    expect(() => pageViewModel(file.pageViews, 'mobile')).to.throw(
      'unknown page-view model mobile (known: storefront, three-documents)',
    );
  });

  describe("the bench's path lists (real PostgreSQL)", () => {
    let db: TestDatabase;
    let client: pg.Client;
    let dir: string;
    before(async () => {
      db = await createTestDatabase();
      await loadCatalog(db.url, FIXTURE);
      client = new pg.Client({ connectionString: db.url });
      await client.connect();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-page-views-'));
    });
    after(async () => {
      await client?.end();
      await db?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('when product 1 is viewed, then its fan-out follows its related document as the catalog serves it (0, itself, repeats and unknown ids left out)', async () => {
      const out = path.join(dir, 'one.paths');
      const drawn = await writePageViewPaths(client, out, () => ({ productId: 1, expect: 200 }), storefront, 10);
      expect(fs.readFileSync(out, 'utf8').split('\n').slice(0, 10)).to.deep.equal([
        '/products/1',
        '/products/1/styles',
        '/products/1/styles',
        '/products/1/related',
        '/products/2',
        '/products/2/styles',
        '/products/3',
        '/products/3/styles',
        '/products/8',
        '/products/8/styles',
      ]);
      expect(drawn).to.deep.include({ views: 1, requestsPerView: 10 });
    });
  });
});
