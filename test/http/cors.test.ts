import { expect } from 'chai';
import { startApp, type RunningApp } from '../support/app';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { FIXTURE } from '../support/fixture';

const STOREFRONT = 'https://storefront.example';
const LISTED = ['https://shop.example', 'http://localhost:5173'];
const EXPOSE = 'ETag, X-Request-Id, Retry-After';
const METHODS = 'GET, HEAD, OPTIONS';

type Headers = Record<string, string>;

async function call(base: string, path: string, init: { method?: string; headers?: Headers } = {}) {
  const res = await fetch(base + path, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** What a browser reads from an answer to a page on `origin`, when the policy allows it. */
function expectAllowed(res: { headers: globalThis.Headers }, origin: string, what: string): void {
  expect(res.headers.get('access-control-allow-origin'), what).to.equal(origin);
  expect(res.headers.get('access-control-expose-headers'), what).to.equal(EXPOSE);
  expect(res.headers.get('access-control-allow-credentials'), what).to.equal(null);
}

describe('CORS: storefront pages calling from the browser (real PostgreSQL, real HTTP)', () => {
  let db: TestDatabase;
  let any: RunningApp;
  let listed: RunningApp;
  let noDatabase: RunningApp;

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
    any = await startApp(db.url);
    listed = await startApp(db.url, { corsAllowOrigins: LISTED });
    // Nothing listens there: every read is a 503.
    noDatabase = await startApp(`postgres://nobody@127.0.0.1:${await freePort()}/none`, { connectTimeoutMs: 300 });
  });
  after(async () => {
    await Promise.all([any?.close(), listed?.close(), noDatabase?.close()]);
    await db?.drop();
  });

  describe('when every origin is allowed (the default)', () => {
    it('when any kind of answer goes to a request with Origin, then it carries Allow-Origin * and the exposed headers', async () => {
      const etag = (await call(any.url, '/products/1')).headers.get('etag')!;
      // The unknown id twice: the second 404 comes from the cached not-found entry.
      await call(any.url, '/products/4');
      const answers: Array<[string, number, string, { method?: string; headers?: Headers }?]> = [
        ['document (fast path)', 200, '/products/1/styles'],
        ['document with a trailing slash (router)', 200, '/products/1/styles/'],
        ['listing', 200, '/products?count=2'],
        ['HEAD', 200, '/products/1/related', { method: 'HEAD' }],
        ['304', 304, '/products/1', { headers: { 'If-None-Match': etag } }],
        ['400', 400, '/products/abc'],
        ['404 from the cached not-found', 404, '/products/4'],
        ['404 of an unknown path', 404, '/nope'],
        ['405', 405, '/products/1', { method: 'DELETE' }],
        ['414', 414, `/products/1?q=${'x'.repeat(3000)}`],
        ['healthz', 200, '/healthz'],
        ['readyz', 200, '/readyz'],
      ];
      for (const [what, status, path, init] of answers) {
        const res = await call(any.url, path, { ...init, headers: { Origin: STOREFRONT, ...init?.headers } });
        expect(res.status, what).to.equal(status);
        expectAllowed(res, '*', what);
      }
    });

    it('when the database is down, then the 503s carry the CORS headers too, with Retry-After exposed', async () => {
      for (const path of ['/products/1', '/products/1/styles', '/products?page=3', '/readyz']) {
        const res = await call(noDatabase.url, path, { headers: { Origin: STOREFRONT } });
        expect(res.status, path).to.equal(503);
        expect(res.headers.get('retry-after'), path).to.equal('1');
        expectAllowed(res, '*', path);
      }
    });

    it('when a request has no Origin, then it carries the same headers, so a shared cache may give it to a browser', async () => {
      const res = await call(any.url, '/products/1');
      expectAllowed(res, '*', 'no Origin');
      // Documents vary by coding only, never by Origin.
      expect(res.headers.get('vary')).to.equal('Accept-Encoding');
    });

    it('when a preflight asks for Authorization, then 204 names it, the methods and a max age, with no body', async () => {
      for (const path of ['/products', '/products/', '/products/1', '/products/1/styles', '/products/1/related/', '/products/abc']) {
        const res = await call(any.url, path, {
          method: 'OPTIONS',
          headers: { Origin: STOREFRONT, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization,x-storefront-id' },
        });
        expect(res.status, path).to.equal(204);
        expect(res.body, path).to.equal('');
        expectAllowed(res, '*', path);
        expect(res.headers.get('access-control-allow-methods'), path).to.equal(METHODS);
        expect(res.headers.get('access-control-allow-headers'), path).to.equal('authorization,x-storefront-id');
        expect(res.headers.get('access-control-max-age'), path).to.equal('86400');
        expect(res.headers.get('allow'), path).to.equal(METHODS);
        expect(res.headers.get('vary'), path).to.equal('Access-Control-Request-Headers');
      }
    });

    it('when a preflight names no headers or malformed ones, then Authorization is still named explicitly', async () => {
      for (const requested of [undefined, 'x y', 'authorization;drop']) {
        const res = await call(any.url, '/products/1', {
          method: 'OPTIONS',
          headers: {
            Origin: STOREFRONT,
            'Access-Control-Request-Method': 'GET',
            ...(requested === undefined ? {} : { 'Access-Control-Request-Headers': requested }),
          },
        });
        expect(res.status, String(requested)).to.equal(204);
        expect(res.headers.get('access-control-allow-headers'), String(requested)).to.equal('Authorization, If-None-Match, X-Request-Id');
      }
    });

    it('when OPTIONS is not a preflight, then 204 with Allow and no preflight headers', async () => {
      for (const headers of [{}, { Origin: STOREFRONT }] as Headers[]) {
        const res = await call(any.url, '/products/1/styles', { method: 'OPTIONS', headers });
        expect(res.status).to.equal(204);
        expect(res.headers.get('allow')).to.equal(METHODS);
        expect(res.headers.get('access-control-allow-methods')).to.equal(null);
        expect(res.headers.get('access-control-allow-headers')).to.equal(null);
        expect(res.headers.get('access-control-max-age')).to.equal(null);
      }
    });

    it('when a preflight goes to an unknown path, then 404 JSON, readable by the page', async () => {
      const res = await call(any.url, '/products/1/photos', {
        method: 'OPTIONS',
        headers: { Origin: STOREFRONT, 'Access-Control-Request-Method': 'GET' },
      });
      expect(res.status).to.equal(404);
      expect(JSON.parse(res.body)).to.deep.equal({ error: 'Not found' });
      expectAllowed(res, '*', 'unknown path');
    });
  });

  describe('when CORS_ALLOW_ORIGINS lists origins', () => {
    it('when a listed origin asks, then its origin is echoed with Vary: Origin on every kind of answer', async () => {
      for (const origin of LISTED) {
        for (const [path, status] of [['/products/1', 200], ['/products/1/styles/', 200], ['/products/abc', 400], ['/nope', 404]] as const) {
          const res = await call(listed.url, path, { headers: { Origin: origin } });
          expect(res.status, path).to.equal(status);
          expectAllowed(res, origin, `${origin} ${path}`);
          // Documents vary by coding as well; errors only by Origin.
          expect(res.headers.get('vary'), path).to.equal(status === 200 ? 'Origin, Accept-Encoding' : 'Origin');
        }
      }
    });

    it('when another origin or none asks, then the normal answer comes without CORS headers, still with Vary: Origin', async () => {
      const reference = await call(listed.url, '/products/1', { headers: { Origin: LISTED[0]! } });
      for (const headers of [{ Origin: STOREFRONT }, { Origin: 'https://shop.example.evil.test' }, { Origin: 'null' }, {}] as Headers[]) {
        const res = await call(listed.url, '/products/1', { headers });
        const what = headers.Origin ?? 'no Origin';
        expect(res.status, what).to.equal(200);
        expect(res.body, what).to.equal(reference.body);
        expect(res.headers.get('access-control-allow-origin'), what).to.equal(null);
        expect(res.headers.get('access-control-expose-headers'), what).to.equal(null);
        expect(res.headers.get('vary'), what).to.equal('Origin, Accept-Encoding');
      }
    });

    it('when a preflight comes from a listed origin, then it is answered; from another, then only Allow', async () => {
      const preflight = (origin: string) =>
        call(listed.url, '/products/1/related', {
          method: 'OPTIONS',
          headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
        });
      const ok = await preflight(LISTED[1]!);
      expect(ok.status).to.equal(204);
      expectAllowed(ok, LISTED[1]!, 'listed');
      expect(ok.headers.get('access-control-allow-headers')).to.equal('authorization');
      expect(ok.headers.get('vary')).to.equal('Origin, Access-Control-Request-Headers');

      const refused = await preflight(STOREFRONT);
      expect(refused.status).to.equal(204);
      expect(refused.headers.get('allow')).to.equal(METHODS);
      for (const name of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age']) {
        expect(refused.headers.get(name), name).to.equal(null);
      }
    });
  });
});
