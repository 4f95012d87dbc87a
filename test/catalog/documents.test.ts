import { expect } from 'chai';
import pg from 'pg';
import { NOT_FOUND } from '../../src/catalog/cache';
import { createDocumentStore, DOCUMENTS_STATEMENT, KIND_STATEMENTS, PAGE_STATEMENT, type DocumentKind } from '../../src/catalog/documents';
import { startApp, type RunningApp } from '../support/app';
import { loadCatalog, type CatalogFixture } from '../support/catalog';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { setTimeout as sleep } from 'node:timers/promises';

/** 1,000 products with ids 2, 4, 6, …: positions and ids differ everywhere. */
const MANY: CatalogFixture = {
  products: Array.from({ length: 1000 }, (_, i) => ({ id: 2 * (i + 1), name: `P${2 * (i + 1)}`, default_price: i })),
};

describe('document store through the app (real PostgreSQL)', () => {
  const NOT_FOUND_TTL_MS = 1500;
  // Moved by hand: the TTL test does not depend on how fast this machine sends requests.
  const clock = { ms: 1_000_000, now: (): number => clock.ms };
  let db: TestDatabase;
  let app: RunningApp;

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, MANY);
    app = await startApp(db.url, { notFoundTtlMs: NOT_FOUND_TTL_MS, clock });
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  it('when 50 requests for one uncached document arrive together, then the database is asked once', async () => {
    const before = app.queries();
    const bodies = await Promise.all(Array.from({ length: 50 }, () => fetch(`${app.url}/products/10/styles`).then((r) => r.text())));
    expect(app.queries() - before).to.equal(1);
    expect(new Set(bodies)).to.deep.equal(new Set(['{"product_id":"10","results":[]}']));
  });

  it('when documents of every kind miss in one turn, then one statement reads them all, each the same as read alone', async () => {
    const before = app.statements();
    // 7 is not in the catalog; 12 is asked twice.
    const wanted: Array<[DocumentKind, number]> = [12, 14, 16, 7, 12].flatMap((id) =>
      (['product', 'styles', 'related'] as const).map((kind): [DocumentKind, number] => [kind, id]),
    );
    const answers = await Promise.all(wanted.map(([kind, id]) => app.documents.product(kind, id)));
    expect(app.statements() - before).to.equal(1);
    for (const [i, [kind, id]] of wanted.entries()) {
      const { rows } = await app.pool.query<{ body: string }>(`SELECT body FROM catalog.${kind}_doc WHERE id = $1`, [id]);
      const answer = answers[i];
      if (rows[0] === undefined) expect(answer, `${kind} ${id}`).to.equal(NOT_FOUND);
      else expect(answer === NOT_FOUND || answer === undefined ? answer : Buffer.from(answer.body, 'latin1').toString(), `${kind} ${id}`).to.equal(rows[0].body);
    }
  });

  it('when a flood of requests names one unknown id, then it is queried once per not-found TTL', async () => {
    const notFound = async (): Promise<void> => void expect((await fetch(`${app.url}/products/3`)).status).to.equal(404);
    const before = app.queries();
    for (let i = 0; i < 200; i++) await notFound();
    expect(app.queries() - before).to.equal(1);
    // lru-cache reuses a clock reading for 1 ms (ttlResolution): wait that out after each move.
    clock.ms += NOT_FOUND_TTL_MS - 1;
    await sleep(20);
    for (let i = 0; i < 50; i++) await notFound();
    expect(app.queries() - before, 'still inside the TTL').to.equal(1);
    clock.ms += 2;
    await sleep(20);
    for (let i = 0; i < 50; i++) await notFound();
    expect(app.queries() - before, 'once more after the TTL').to.equal(2);
  });

  it('when a page is requested, then it holds the products at those positions of the id order', async () => {
    const page = (await (await fetch(`${app.url}/products?page=37&count=7`)).json()) as Array<{ id: number }>;
    // Positions (37 - 1) * 7 + 1 … 37 * 7 = 253 … 259 hold ids 2 × position.
    expect(page.map((p) => p.id)).to.deep.equal([506, 508, 510, 512, 514, 516, 518]);
  });

  it('when a deep page is planned, then it is an index range scan on position, never an offset scan', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // Fresh statistics, so the plan is the one a loaded catalog gets.
      await client.query('ANALYZE catalog.product_list_doc');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        // The service's own statement, so a change to it is what gets planned here.
        `EXPLAIN ${PAGE_STATEMENT}`,
        ['999995', '1000000'],
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).to.match(/Index Scan using product_list_doc_pos_idx/);
      // The view and the rebuilt entries are probed, never scanned (list_moves, the few products
      // added or removed since the build, is read whole by design).
      expect(plan).to.not.match(/Seq Scan on (product_list_doc|list_overlay)/);
      // No offset paging: the only Limit is the one-row probe placing an added product after its predecessor.
      const lines = plan.split('\n');
      lines.forEach((line, i) => {
        if (/Limit/.test(line)) expect(lines[i + 1]).to.match(/Index Scan Backward using product_list_doc_id_idx/);
      });
    } finally {
      await client.end();
    }
  });

  it('when a batch is planned, then each view is read through its id index, never scanned', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('ANALYZE catalog.product_doc, catalog.styles_doc, catalog.related_doc');
      const ids = Array.from({ length: 64 }, (_, i) => 2 * i + 2);
      const planned: Array<[string, string, number[][]]> = [['all kinds', DOCUMENTS_STATEMENT, [ids, ids, ids]]];
      for (const [kind, statement] of Object.entries(KIND_STATEMENTS)) planned.push([kind, statement, [ids]]);
      for (const [name, statement, values] of planned) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, values);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        // Per view, an index scan or a bitmap built from the index (a small test catalog may get one).
        const kinds = name === 'all kinds' ? ['product', 'styles', 'related'] : [name];
        for (const kind of kinds) {
          expect(plan, name).to.match(new RegExp(`Index Scan using \\w+ on ${kind}_doc|Bitmap Index Scan on ${kind}_doc_id_idx`));
        }
        expect(plan, name).to.not.match(/Seq Scan/);
      }
    } finally {
      await client.end();
    }
  });

  it('when the store is warmed, then the pool holds that many connections, each with the batch statement prepared', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    try {
      const store = createDocumentStore({ pool, cacheMaxBytes: 1e6, cacheTtlMs: 60_000, notFoundTtlMs: 1000 });
      await store.warm(3);
      expect(pool.totalCount).to.equal(3);
      // Each connection's session lists the statement as prepared by this process.
      const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      try {
        expect(pool.totalCount).to.equal(3);
        for (const client of clients) {
          const { rows } = await client.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
          expect(rows.map((r) => r.name)).to.include('atelier_documents');
        }
      } finally {
        for (const client of clients) client.release();
      }
    } finally {
      await pool.end();
    }
  });

  it('when the database cannot be reached, then warming resolves anyway (the service starts and answers 503)', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://nobody:x@127.0.0.1:1/none', max: 2, connectionTimeoutMillis: 500 });
    pool.on('error', () => undefined);
    try {
      const store = createDocumentStore({ pool, cacheMaxBytes: 1e6, cacheTtlMs: 60_000, notFoundTtlMs: 1000 });
      await store.warm(2);
      expect(pool.totalCount).to.equal(0);
    } finally {
      await pool.end();
    }
  });
});
