import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { NOT_FOUND } from '../../../src/catalog/cache';
import { BadFileError, EtlError } from '../../../db/etl/errors';
import { reloadCatalog } from '../../../db/etl/reload-catalog';
import { createTestDatabase, queryRows, type TestDatabase } from '../../support/postgres';
import { eventually } from '../../support/wait';
import { startCatalogService, type CatalogService } from '../support/catalog-service';
import { documentBodies, generateDataset, renamedCopy, routeOf } from '../support/datasets';
import { FIXTURE_DIR } from './fixture';

const PRODUCTS = 1500;
// Routes sampled by the readers: product, styles and related documents, and list pages.
const KEYS = [
  ...Array.from({ length: 60 }, (_, i) => `product:${1 + i * 25}`),
  ...Array.from({ length: 20 }, (_, i) => `styles:${2 + i * 70}`),
  ...Array.from({ length: 20 }, (_, i) => `related:${3 + i * 70}`),
  'page:1:200',
  'page:3:100',
];

/** Reads `key` through the store, bypassing its cache: a database read on one of the pool's connections. */
async function freshRead(service: CatalogService, key: string): Promise<string | undefined> {
  service.documents.invalidate();
  const [kind, a, b] = key.split(':');
  const entry = await (kind === 'page'
    ? service.documents.page(Number(a), Number(b))
    : service.documents.product(kind as 'product' | 'styles' | 'related', Number(a)));
  return entry === NOT_FOUND ? undefined : entry.body.toString();
}

describe('Atomic catalog reloads', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let tmp: string;
  let dirA: string;
  let dirB: string;
  let services: CatalogService[] = [];
  let bodiesA: Map<string, string | undefined>;

  const reload = (
    dir: string,
    extra: Partial<Parameters<typeof reloadCatalog>[0]> = {},
  ): ReturnType<typeof reloadCatalog> =>
    reloadCatalog({ url: db.url, dir, rejectsPath: path.join(tmp, `rejects-${Date.now()}.csv`), ...extra });

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-reload-'));
    dirA = path.join(tmp, 'a');
    dirB = path.join(tmp, 'b');
    await generateDataset(dirA, PRODUCTS, 7);
    renamedCopy(dirA, dirB, 'v2 ');
  });

  beforeEach(async () => {
    db = await createTestDatabase();
    await reload(dirA);
    bodiesA = await documentBodies(db.url, KEYS);
    services = [await startCatalogService(db.url), await startCatalogService(db.url)];
  });

  afterEach(async () => {
    await Promise.all(services.map((s) => s.close()));
    services = [];
    await db?.drop();
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when a reload runs under readers, then every answer is the old or the new document, never an error or a mixed page', async () => {
    const [service] = services as [CatalogService];
    const seen: Array<{ key: string; status: number; body: string }> = [];
    let reloading = true;
    const reader = async (offset: number): Promise<void> => {
      for (let i = offset; reloading; i += 7) {
        const key = KEYS[i % KEYS.length]!;
        const res = await service.get(routeOf(key));
        seen.push({ key, ...res });
      }
    };
    const readers = [0, 1, 2, 3].map(reader);
    let answeredBeforeSwap: string | undefined;
    let answeredAfterSwap: string | undefined;
    await reload(dirB, {
      beforeSwap: async () => void (answeredBeforeSwap = await freshRead(service, 'product:1')),
      afterSwap: async () => void (answeredAfterSwap = await freshRead(service, 'product:1')),
    });
    reloading = false;
    await Promise.all(readers);
    const bodiesB = await documentBodies(db.url, KEYS);

    expect(answeredBeforeSwap, 'before the swap').to.equal(bodiesA.get('product:1'));
    expect(answeredAfterSwap, 'right after the swap').to.equal(bodiesB.get('product:1'));
    expect(seen.length).to.be.greaterThan(KEYS.length);
    for (const s of seen) {
      expect(s.status, `${s.key}: ${s.body}`).to.equal(200);
      expect([bodiesA.get(s.key), bodiesB.get(s.key)], s.key).to.include(s.body);
      if (s.key.startsWith('page:')) {
        const names = (JSON.parse(s.body) as Array<{ name: string }>).map((p) => p.name.startsWith('v2 '));
        expect(new Set(names).size, `${s.key} mixes catalogs`).to.equal(1);
      }
    }
    expect(bodiesB.get('product:1')).to.not.equal(bodiesA.get('product:1'));
  });

  it('when the swap commits, then every worker of every instance clears its cache and serves the new catalog', async () => {
    for (const s of services)
      for (const key of KEYS.slice(0, 10)) expect((await s.get(routeOf(key))).body).to.equal(bodiesA.get(key));
    for (const s of services) expect(s.documents.cacheStats().entries).to.equal(10);
    const { version } = await reload(dirB);
    const bodiesB = await documentBodies(db.url, KEYS);
    // Liveness bound only; how fast the notice arrives is measured by the benchmark, not asserted here.
    await eventually(() => services.every((s) => s.notices.includes(String(version))), 10_000, 'both listeners got the notice');
    for (const s of services) {
      expect(s.documents.cacheStats().entries).to.equal(0);
      for (const key of KEYS.slice(0, 10)) expect((await s.get(routeOf(key))).body, key).to.equal(bodiesB.get(key));
    }
  });

  it('when a catalog is loaded, then the tables change sets rewrite leave room on their pages for heap-only updates', async () => {
    await reload(dirB);
    const options = await queryRows(
      db.url,
      "SELECT relname, array_to_string(reloptions, ',') FROM pg_class WHERE relnamespace = 'catalog'::regnamespace AND relname IN ('product', 'styles', 'skus', 'photos') ORDER BY relname",
    );
    expect(options).to.deep.equal([['photos', null], ['product', 'fillfactor=90'], ['skus', 'fillfactor=90'], ['styles', 'fillfactor=90']]);
  });

  it('when a pool prepared its statements before the swap, then all its connections answer from the new catalog after it', async () => {
    const [service] = services as [CatalogService];
    // Eight reads, each started on its own event-loop turn so none shares a batch: they open
    // all four connections, each preparing the named statements.
    const warm = async (): Promise<Array<string | undefined>> => {
      const reads = [];
      for (const key of KEYS.slice(0, 8)) {
        const [kind, id] = key.split(':');
        reads.push(Promise.resolve(service.documents.product(kind as 'product', Number(id))));
        await new Promise((r) => setImmediate(r));
      }
      return (await Promise.all(reads)).map((entry) => (entry === NOT_FOUND ? undefined : entry.body.toString()));
    };
    service.documents.invalidate();
    expect(await warm()).to.deep.equal(KEYS.slice(0, 8).map((k) => bodiesA.get(k)));
    expect(service.pool.totalCount).to.equal(4);
    let afterSwap: Array<string | undefined> = [];
    await reload(dirB, {
      afterSwap: async () => {
        service.documents.invalidate();
        afterSwap = await warm();
      },
    });
    const bodiesB = await documentBodies(db.url, KEYS);
    expect(afterSwap).to.deep.equal(KEYS.slice(0, 8).map((k) => bodiesB.get(k)));
  });

  it('when a file is bad, then the load fails with a clear message and the live catalog is untouched', async () => {
    const bad = path.join(tmp, 'bad');
    renamedCopy(dirB, bad, 'bad ');
    fs.writeFileSync(path.join(bad, 'skus.csv'), 'id,style_id,size,quantity\n1,1,"S",1\n');
    fs.rmSync(path.join(bad, 'related.csv'));
    let failure: unknown;
    await reload(bad).catch((err: unknown) => (failure = err));
    expect(failure).to.be.instanceOf(BadFileError);
    expect((failure as Error).message).to.include(
      'skus.csv: header is "id,style_id,size,quantity", expected "id,styleId,size,quantity"',
    );
    expect((failure as Error).message).to.include('related.csv: missing');
    expect(await queryRows(db.url, 'SELECT max(version) FROM catalog.catalog_info')).to.deep.equal([['1']]);
    expect(await documentBodies(db.url, KEYS)).to.deep.equal(bodiesA);
  });

  it('when a file rejects more than --max-reject-ratio, then the load is refused naming each such file and the live catalog is untouched', async () => {
    let failure: unknown;
    // The defect fixture rejects half of product.csv and more.
    await reload(FIXTURE_DIR, { maxRejectRatio: 0.01 }).catch((err: unknown) => (failure = err));
    expect(failure).to.be.instanceOf(EtlError);
    expect((failure as Error).message).to.match(/^too many rejects \(more than 1\.00% of a file\): product\.csv 6 of 12, /);
    expect(await queryRows(db.url, 'SELECT max(version) FROM catalog.catalog_info')).to.deep.equal([['1']]);
    expect(await documentBodies(db.url, KEYS)).to.deep.equal(bodiesA);
  });

  it('when the load fails after building the new catalog, then the new schema is dropped and the live catalog is untouched', async () => {
    let failure: unknown;
    await reload(dirB, {
      beforeSwap: async () => {
        throw new Error('simulated failure before the swap');
      },
    }).catch((err: unknown) => (failure = err));
    expect((failure as Error).message).to.equal('simulated failure before the swap');
    expect(
      await queryRows(db.url, "SELECT string_agg(nspname, ',') FROM pg_namespace WHERE nspname LIKE 'catalog%'"),
    ).to.deep.equal([['catalog']]);
    expect(
      await queryRows(db.url, "SELECT count(*) FROM public.schema_migrations WHERE schema_name <> 'catalog'"),
    ).to.deep.equal([['0']]);
    expect(await documentBodies(db.url, KEYS)).to.deep.equal(bodiesA);
    for (const s of services) expect(s.notices).to.deep.equal([]);
  });
});
