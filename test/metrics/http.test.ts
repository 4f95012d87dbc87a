import { expect } from 'chai';
import http from 'node:http';
import pg from 'pg';
import { Registry } from 'prom-client';
import { createApp } from '../../src/app';
import { createDocumentStore } from '../../src/catalog/documents';
import { checkCatalogLoaded } from '../../src/postgres/live-catalog';
import { createWorkerMetrics } from '../../src/metrics/worker-metrics';
import { FIXTURE } from '../support/fixture';
import { loadCatalog } from '../support/catalog';
import { serve } from '../support/http';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { memoryLogger } from '../support/silent-logger';
import { parseExposition, REQUESTS, value } from './scrape';
import { setTimeout as sleep } from 'node:timers/promises';

function request(url: string, method: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .request(url, { method, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject)
      .end();
  });
}

describe('HTTP request metrics of the app', function () {
  this.timeout(20_000);
  let db: TestDatabase;
  let pool: pg.Pool;
  let registry: Registry;
  let url: string;
  let close: () => Promise<void>;
  // /readyz waits on this gate, so a test can hold a request inside the app.
  let gate: Promise<void> = Promise.resolve();

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    registry = new Registry();
    const metrics = createWorkerMetrics(registry);
    const documents = createDocumentStore({ pool, cacheMaxBytes: 1 << 20, cacheTtlMs: 60_000, notFoundTtlMs: 60_000, onFetch: metrics.observeFetch });
    const app = createApp({
      log: memoryLogger().log,
      documents,
      checkReady: async () => {
        await gate;
        await checkCatalogLoaded(pool);
      },
      version: 'test',
      httpMaxAgeSeconds: 60,
      corsAllowOrigins: '*',
      metrics: metrics.http,
    });
    ({ url, close } = await serve(app));
  });

  after(async () => {
    await close();
    await pool.end();
    await db.drop();
  });

  const read = async () => parseExposition(await registry.metrics());
  const count = (s: ReturnType<typeof parseExposition>, route: string, method: string, statusClass: string): number =>
    value(s, REQUESTS, { route, method, status_class: statusClass }) ?? 0;

  it('when requests hit routes, unknown paths, odd methods and failures, then each counts once under its route template, method and status class', async () => {
    const before = await read();
    const first = await fetch(`${url}/products/1`);
    const etag = first.headers.get('etag')!;
    expect(await request(`${url}/products/1`, 'GET', { 'If-None-Match': etag })).to.equal(304);
    expect(await request(`${url}/products/abc`, 'GET')).to.equal(400);
    expect(await request(`${url}/products/5/styles`, 'GET')).to.equal(200);
    expect(await request(`${url}/no/such/path`, 'GET')).to.equal(404);
    expect(await request(`${url}/products/1`, 'DELETE')).to.equal(405);
    expect(await request(`${url}/products`, 'PROPFIND')).to.equal(405);
    await pool.query('ALTER TABLE catalog.catalog_info RENAME TO catalog_info_gone');
    try {
      expect(await request(`${url}/readyz`, 'GET')).to.equal(503);
    } finally {
      await pool.query('ALTER TABLE catalog.catalog_info_gone RENAME TO catalog_info');
    }

    const after = await read();
    const delta = (route: string, method: string, cls: string): number => count(after, route, method, cls) - count(before, route, method, cls);
    expect(delta('/products/:product_id', 'GET', '2xx')).to.equal(1);
    expect(delta('/products/:product_id', 'GET', '3xx')).to.equal(1);
    expect(delta('/products/:product_id', 'GET', '4xx')).to.equal(1);
    expect(delta('/products/:product_id/styles', 'GET', '2xx')).to.equal(1);
    expect(delta('unmatched', 'GET', '4xx')).to.equal(1);
    expect(delta('/products/:product_id', 'DELETE', '4xx')).to.equal(1);
    expect(delta('/products', 'OTHER', '4xx')).to.equal(1);
    expect(delta('/readyz', 'GET', '5xx')).to.equal(1);
    const all = (s: typeof after): number => s.filter((x) => x.name === REQUESTS).reduce((n, x) => n + x.value, 0);
    expect(all(after) - all(before)).to.equal(8);
    // Each cache miss read the database once: product 1 and the styles of product 5.
    expect(value(after, 'atelier_db_fetch_duration_seconds_count', { kind: 'product' })).to.equal(1);
    expect(value(after, 'atelier_db_fetch_duration_seconds_count', { kind: 'styles' })).to.equal(1);
  });

  it('when a request is inside the app, then requests_in_flight counts it until it completes', async () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    const pending = request(`${url}/readyz`, 'GET');
    // The request is in flight once the app has entered it; poll the gauge rather than sleep.
    for (let i = 0; i < 200 && value(await read(), 'atelier_http_requests_in_flight') !== 1; i++) {
      await sleep(10);
    }
    expect(value(await read(), 'atelier_http_requests_in_flight')).to.equal(1);
    open();
    expect(await pending).to.equal(200);
    expect(value(await read(), 'atelier_http_requests_in_flight')).to.equal(0);
  });
});
