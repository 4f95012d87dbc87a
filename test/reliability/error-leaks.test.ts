import { expect } from 'chai';
import pg from 'pg';
import { createApp } from '../../src/app';
import { createDocumentStore } from '../../src/catalog/documents';
import type { ReadPool } from '../../src/postgres/replicas';
import { isDatabaseUnavailable } from '../../src/postgres/errors';
import { FIXTURE } from '../support/fixture';
import { startApp, type RunningApp } from '../support/app';
import { loadCatalog } from '../support/catalog';
import { serve } from '../support/http';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { memoryLogger } from '../support/silent-logger';

/** Anything a client must never see: SQL, identifiers, paths, stack frames, driver names. */
const INTERNALS = /SELECT|relation|catalog\.|\/work\/|node_modules|\.ts:|\.js:|at \w|postgres|koa|TypeError|secret|42P01/i;

/** A driver error as pg raises it for a statement against a missing view. */
function sqlError(): Error {
  const err = new Error('relation "catalog.product_doc" does not exist') as Error & Record<string, unknown>;
  Object.assign(err, { code: '42P01', severity: 'ERROR', position: '18', file: 'parse_relation.c', routine: 'parserOpenTable' });
  err.stack = `error: relation "catalog.product_doc" does not exist\n    at /work/main/node_modules/pg/lib/client.js:545:17\n    at documents.ts:61:22`;
  return err;
}

async function appWhosePoolThrows(thrown: () => unknown, checkReady: () => Promise<void> = async () => undefined) {
  let statements = 0;
  const pool: ReadPool = {
    query: async () => {
      statements++;
      throw thrown();
    },
  };
  const documents = createDocumentStore({ pool, cacheMaxBytes: 1e6, cacheTtlMs: 60_000, notFoundTtlMs: 1000 });
  const { log, lines } = memoryLogger();
  const server = await serve(createApp({ log, documents, checkReady, version: 'test', httpMaxAgeSeconds: 60, corsAllowOrigins: '*' }));
  return { ...server, lines, statements: () => statements };
}

async function expectGeneric(res: Response, status: number, error: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).to.equal(status);
  expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
  expect(JSON.parse(text)).to.deep.equal({ error });
  expect(text).to.not.match(INTERNALS);
  expect(res.headers.get('x-powered-by')).to.equal(null);
  expect(res.headers.get('server')).to.equal(null);
  for (const [name, value] of res.headers) expect(`${name}: ${value}`).to.not.match(INTERNALS);
}

describe('reliability: failures never leak internals', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  const unexpected: Array<[string, () => unknown]> = [
    ['a SQL error with its statement position and a stack of file paths', sqlError],
    ['a programming error (TypeError)', () => new TypeError("Cannot read properties of undefined (reading 'rows') at /work/main/src/catalog/documents.ts:61")],
    ['a thrown string holding SQL', () => 'SELECT body FROM catalog.product_doc WHERE id = $1'],
    ['an error carrying status 502 and expose=true', () => Object.assign(new Error('upstream postgres at 10.0.0.5 said no'), { status: 502, expose: true })],
  ];
  for (const [what, thrown] of unexpected) {
    it(`when a document read fails with ${what}, then 500 {"error":"Internal server error"} and the cause is only logged`, async () => {
      const app = await appWhosePoolThrows(thrown);
      closers.push(app.close);
      await expectGeneric(await fetch(`${app.url}/products/1`, { headers: { 'X-Request-Id': 'leak-1' } }), 500, 'Internal server error');
      const logged = app.lines().filter((l) => l.reqId === 'leak-1' && l.msg === 'request failed');
      expect(logged, 'the cause is logged once, for the operator').to.have.length(1);
    });
  }

  it('when an error carries a 4xx status and an internal message, then the client gets only "Bad request"', async () => {
    const app = await appWhosePoolThrows(() => Object.assign(new Error('SELECT failed in /work/main/src/x.ts'), { status: 400, expose: true }));
    closers.push(app.close);
    await expectGeneric(await fetch(`${app.url}/products/1/styles`), 400, 'Bad request');
  });

  it('when the readiness check fails with a SQL error, then /readyz is 503 "Not ready" with nothing more', async () => {
    const app = await appWhosePoolThrows(sqlError, async () => {
      throw sqlError();
    });
    closers.push(app.close);
    await expectGeneric(await fetch(`${app.url}/readyz`), 503, 'Not ready');
  });

  it('when the database refuses the login (no such role yet, 28P01) or the database (3D000), then 503 with Retry-After, not 500', async () => {
    for (const code of ['28P01', '28000', '3D000']) {
      const app = await appWhosePoolThrows(() => Object.assign(new Error('password authentication failed for user "atelier_reader"'), { code }));
      closers.push(app.close);
      const res = await fetch(`${app.url}/products/1`);
      expect(res.headers.get('retry-after'), code).to.equal('1');
      await expectGeneric(res, 503, 'Service temporarily unavailable');
      // One login attempt per batch: a refused connection is not retried view by view.
      expect(app.statements(), code).to.equal(1);
    }
    // The primary still treats a rejected owner login as fatal (a wrong password is not retried forever).
    expect(isDatabaseUnavailable(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).to.equal(false);
  });

  describe('with a real database whose document view has gone missing', () => {
    let db: TestDatabase;
    let app: RunningApp;
    before(async () => {
      db = await createTestDatabase();
      await loadCatalog(db.url, FIXTURE);
      const owner = new pg.Client({ connectionString: db.url });
      await owner.connect();
      await owner.query('ALTER MATERIALIZED VIEW catalog.related_doc RENAME TO related_doc_gone');
      await owner.end();
      app = await startApp(db.url);
    });
    after(async () => {
      await app?.close();
      await db?.drop();
    });

    it('when a route reads it, then 500 generic JSON while PostgreSQL\'s own message is only in the log', async () => {
      await expectGeneric(await fetch(`${app.url}/products/1/related`, { headers: { 'X-Request-Id': 'gone-1' } }), 500, 'Internal server error');
      const logged = JSON.stringify(app.logLines().filter((l) => l.reqId === 'gone-1' && l.msg === 'request failed'));
      expect(logged).to.match(/relation \\"catalog\.related_doc\\" does not exist/);
      // The other routes are unaffected.
      expect((await fetch(`${app.url}/products/1`)).status).to.equal(200);
    });
  });
});
