import { expect } from 'chai';
import net from 'node:net';
import pg from 'pg';
import { Registry } from 'prom-client';
import { recordEtlSummary } from '../../db/etl/summary';
import { createCatalogReader, registerCatalogMetrics } from '../../src/metrics/catalog-metrics';
import { FIXTURE } from '../support/fixture';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { parseExposition, value } from './scrape';

describe('catalog and ETL metrics from the database', function () {
  this.timeout(20_000);
  let db: TestDatabase;
  let pool: pg.Pool;

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE, 4);
    pool = new pg.Pool({ connectionString: db.url, max: 1 });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('when the live catalog has no ETL summary, then version and load time are exported and no ETL series', async () => {
    const registry = new Registry();
    await registerCatalogMetrics(registry, createCatalogReader({ pool: () => pool, maxAgeMs: 0, timeoutMs: 5_000 })).refresh();
    const s = parseExposition(await registry.metrics());
    const { rows } = await pool.query<{ at: number }>('SELECT extract(epoch FROM loaded_at)::float8 AS at FROM catalog.catalog_info');
    expect(value(s, 'atelier_catalog_version')).to.equal(4);
    expect(value(s, 'atelier_catalog_loaded_timestamp_seconds')).to.equal(rows[0]!.at);
    expect(s.filter((x) => x.name === 'atelier_etl_rows')).to.deep.equal([]);
  });

  it('when a load records its summary twice, then the second replaces the first, file by file and outcome by outcome', async () => {
    const client = await pool.connect();
    try {
      await recordEtlSummary(client, 'catalog', [{ file: 'skus.csv', loaded: 1, rejected: 1, dropped: 1 }]);
      await recordEtlSummary(client, 'catalog', [
        { file: 'product.csv', loaded: 1_000_011, rejected: 2, dropped: 0 },
        { file: 'related.csv', loaded: 4_508_000, rejected: 5, dropped: 258 },
      ]);
    } finally {
      client.release();
    }
    const registry = new Registry();
    await registerCatalogMetrics(registry, createCatalogReader({ pool: () => pool, maxAgeMs: 0, timeoutMs: 5_000 })).refresh();
    const etl = parseExposition(await registry.metrics()).filter((x) => x.name === 'atelier_etl_rows');
    expect(etl.map((x) => `${x.labels.file} ${x.labels.outcome} ${x.value}`).sort()).to.deep.equal([
      'product.csv dropped 0',
      'product.csv loaded 1000011',
      'product.csv rejected 2',
      'related.csv dropped 258',
      'related.csv loaded 4508000',
      'related.csv rejected 5',
    ]);
  });

  it('when a scrape refreshes and then renders, then it reads the catalog once and the gauges show what it read', async () => {
    // No caching, so every call of the reader would be one more wait on the database.
    const reader = createCatalogReader({ pool: () => pool, maxAgeMs: 0, timeoutMs: 5_000 });
    let reads = 0;
    const registry = new Registry();
    const catalog = registerCatalogMetrics(registry, () => {
      reads++;
      return reader();
    });
    for (let scrape = 1; scrape <= 2; scrape++) {
      await catalog.refresh();
      const s = parseExposition(await registry.metrics());
      expect(reads).to.equal(scrape);
      expect(value(s, 'atelier_catalog_version')).to.equal(4);
    }
  });

  it('when reads come faster than the cache period, then the database is asked once per period', async () => {
    const read = createCatalogReader({ pool: () => pool, maxAgeMs: 60_000, timeoutMs: 5_000 });
    expect((await read())?.version).to.equal(4);
    await pool.query("INSERT INTO catalog.catalog_info (version, source) VALUES (5, 'next')");
    expect((await read())?.version).to.equal(4);
    expect((await createCatalogReader({ pool: () => pool, maxAgeMs: 0, timeoutMs: 5_000 })())?.version).to.equal(5);
  });

  it('when change sets are applied, then their count, documents and last time are exported and the load time stays the load\'s', async () => {
    const registry = new Registry();
    const metrics = registerCatalogMetrics(registry, createCatalogReader({ pool: () => pool, maxAgeMs: 0, timeoutMs: 5_000 }));
    await metrics.refresh();
    let s = parseExposition(await registry.metrics());
    const loadedAt = value(s, 'atelier_catalog_loaded_timestamp_seconds');
    expect(value(s, 'atelier_catalog_change_sets')).to.equal(0);
    expect(value(s, 'atelier_catalog_last_change_timestamp_seconds')).to.equal(0);
    const top = Number((await pool.query<{ v: string }>('SELECT max(version)::text AS v FROM catalog.catalog_info')).rows[0]!.v);
    for (const [version, documents, at] of [[top + 1, 3, '2026-12-05T10:00:00Z'], [top + 2, 4, '2026-12-05T10:00:01Z']] as const) {
      await pool.query("INSERT INTO catalog.catalog_info (version, source, kind, loaded_at) VALUES ($1, 'change set', 'changes', $2)", [version, at]);
      await pool.query("INSERT INTO catalog.catalog_changes (version, source, products, documents, keys, applied_at) VALUES ($1, 'change set', 1, $2, '{p1}', $3)", [version, documents, at]);
    }
    await metrics.refresh();
    s = parseExposition(await registry.metrics());
    expect(value(s, 'atelier_catalog_version')).to.equal(top + 2);
    expect(value(s, 'atelier_catalog_change_sets')).to.equal(2);
    expect(value(s, 'atelier_catalog_changed_documents')).to.equal(7);
    expect(value(s, 'atelier_catalog_last_change_timestamp_seconds')).to.equal(Date.parse('2026-12-05T10:00:01Z') / 1000);
    expect(value(s, 'atelier_catalog_loaded_timestamp_seconds')).to.equal(loadedAt);
  });

  it('when the database accepts connections but never answers, then a read gives up at its timeout instead of hanging', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    // The pool itself would wait 10 minutes: only the reader's own timeout can end the read
    // within the test's time limit.
    const deadPool = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x`, max: 1, connectionTimeoutMillis: 600_000 });
    deadPool.on('error', () => undefined);
    try {
      const read = createCatalogReader({ pool: () => deadPool, maxAgeMs: 0, timeoutMs: 100 });
      expect(await read()).to.equal(undefined);
    } finally {
      for (const s of sockets) s.destroy();
      await deadPool.end().catch(() => undefined);
      await new Promise((r) => silent.close(r));
    }
  });
});
