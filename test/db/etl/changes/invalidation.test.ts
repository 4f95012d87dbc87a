import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { applyChanges } from '../../../../db/etl/apply-changes';
import { reloadCatalog } from '../../../../db/etl/reload-catalog';
import { scrape, total } from '../../../metrics/scrape';
import { createTestDatabase, freePort, type TestDatabase } from '../../../support/postgres';
import { startServer, type ServerProcess } from '../../../support/server-process';
import { eventually } from '../../../support/wait';
import { catalogTables, emptyCatalog, writeExport, type Catalog } from './model';

/** GET on a new connection each time, so the cluster hands requests to every worker in turn. */
function getFresh(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function catalog(): Catalog {
  const c = emptyCatalog();
  for (let id = 1; id <= 40; id++) {
    c.product.set(id, { id, name: `P${id}`, slogan: 's', description: 'd', category: 'c', default_price: '10.00' });
    c.styles.set(id, { id, productId: id, name: `S${id}`, sale_price: null, original_price: '10', default_style: 1 });
    c.skus.set(id, { id, styleId: id, size: 'M', quantity: 1 });
  }
  return c;
}

describe('Change sets reach every worker: exactly the changed documents are dropped', function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let tmp: string;
  let service: ServerProcess;
  let metricsUrl: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-changes-inv-'));
    writeExport(path.join(tmp, 'base'), catalogTables(catalog()));
    db = await createTestDatabase();
    await reloadCatalog({ url: db.url, dir: path.join(tmp, 'base'), rejectsPath: path.join(tmp, 'r.csv') });
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    // Documents live 10 minutes: anything served new below was dropped, not expired.
    service = await startServer({
      DATABASE_URL: db.url,
      WORKERS: '2',
      METRICS_PORT: String(metricsPort),
      CACHE_TTL_SECONDS: '600',
    });
  });
  after(async () => {
    await service?.stop();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when a sku quantity and a price change, then every worker serves them new within a second and every other cached document and page stays a hit', async () => {
    const paths = [
      '/products/5',
      '/products/5/styles',
      '/products/6',
      '/products/6/styles',
      '/products/7/related',
      '/products?page=1&count=5',
      '/products?page=2&count=5',
    ];
    // Both workers cache every path: the cluster hands new connections to its workers in turn,
    // but not strictly alternating, so rounds go on until two in a row miss nothing.
    let quiet = 0;
    for (let round = 0; quiet < 2; round++) {
      expect(round, 'rounds until both workers cached every path').to.be.below(30);
      const misses = total(await scrape(metricsUrl), 'atelier_cache_misses_total');
      for (const p of paths) for (let i = 0; i < 3; i++) expect((await getFresh(service.url + p)).status).to.equal(200);
      quiet = total(await scrape(metricsUrl), 'atelier_cache_misses_total') === misses ? quiet + 1 : 0;
    }
    writeExport(path.join(tmp, 'set'), {
      styles: [{ id: 5, productId: 5, name: 'S5', sale_price: '7.50', original_price: '10', default_style: 1 }],
      skus: [{ id: 5, styleId: 5, size: 'M', quantity: 0 }],
      product: [{ id: 6, name: 'P6', slogan: 's', description: 'd', category: 'c', default_price: '12.00' }],
    });
    const result = await applyChanges({
      url: db.url,
      dir: path.join(tmp, 'set'),
      rejectsPath: path.join(tmp, 'r2.csv'),
    });
    // Product 6 is the listing's sixth entry: the pages holding position 6 go, page 1 of 5 stays.
    expect(result.keys.sort()).to.deep.equal(['l6', 'p6', 's5']);
    const applied = Date.now();

    const isNew = async (): Promise<boolean> => {
      for (let i = 0; i < 6; i++) {
        const styles = JSON.parse((await getFresh(`${service.url}/products/5/styles`)).body) as {
          results: Array<{ sale_price: string; skus: Record<string, { quantity: number }> }>;
        };
        const product = JSON.parse((await getFresh(`${service.url}/products/6`)).body) as { default_price: string };
        const page = JSON.parse((await getFresh(`${service.url}/products?page=2&count=5`)).body) as Array<{
          id: number;
          default_price: string;
        }>;
        if (styles.results[0]!.sale_price !== '7.50' || styles.results[0]!.skus['5']!.quantity !== 0) return false;
        if (product.default_price !== '12.00' || page[0]!.id !== 6 || page[0]!.default_price !== '12.00') return false;
      }
      return true;
    };
    await eventually(isNew, 5_000, 'both workers to serve the change');
    expect(Date.now() - applied).to.be.lessThan(1_000);
    // Each worker logged the drop of its own cached copies.
    await eventually(
      () => (service.output().match(/catalog change set: documents dropped/g) ?? []).length === 2,
      5_000,
      'two workers to log the drop',
    );

    // Unchanged documents both workers cached before: still hits, no database read.
    const before = await scrape(metricsUrl);
    for (let i = 0; i < 10; i++)
      for (const p of ['/products/5', '/products/6/styles', '/products/7/related', '/products?page=1&count=5'])
        await getFresh(service.url + p);
    const after = await scrape(metricsUrl);
    expect(total(after, 'atelier_cache_misses_total') - total(before, 'atelier_cache_misses_total')).to.equal(0);
    expect(total(after, 'atelier_cache_hits_total') - total(before, 'atelier_cache_hits_total')).to.equal(40);
    // The catalog gauges are read from the database at most every 5 s (cluster-metrics.ts).
    await eventually(
      async () => total(await scrape(metricsUrl), 'atelier_catalog_change_sets') > 0,
      7_000,
      'the change-set gauge to count it',
    );
  });
});
