import { expect } from 'chai';
import { APP_VERSION, startApp, type RunningApp } from '../support/app';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { EXPECTED, EXPECTED_PRODUCT5, FIXTURE } from '../support/fixture';

const JSON_TYPE = 'application/json; charset=utf-8';

describe('Products routes (real PostgreSQL, real HTTP)', () => {
  let db: TestDatabase;
  let app: RunningApp;

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
    app = await startApp(db.url);
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(app.url + path, { headers });

  async function expectDocument(path: string, expected: unknown): Promise<Response> {
    const res = await get(path);
    expect(res.status, path).to.equal(200);
    expect(res.headers.get('content-type')).to.equal(JSON_TYPE);
    expect(await res.text(), path).to.equal(JSON.stringify(expected));
    return res;
  }

  async function expectError(path: string, status: number, message?: RegExp, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(app.url + path, init);
    expect(res.status, `${init.method ?? 'GET'} ${path}`).to.equal(status);
    expect(res.headers.get('content-type')).to.equal(JSON_TYPE);
    const body = (await res.json()) as { error: string };
    expect(Object.keys(body)).to.deep.equal(['error']);
    if (message) expect(body.error).to.match(message);
    return res;
  }

  describe('GET /products/:product_id', () => {
    it('when the product has features, then they come in feature row id order with null values kept', () =>
      expectDocument('/products/1', EXPECTED.product1));
    it('when the product has no features, then features is []', () => expectDocument('/products/7', EXPECTED.product7));
    it('when text needs escaping, then the bytes equal JSON.stringify of the same value', () =>
      expectDocument('/products/5', EXPECTED_PRODUCT5));
  });

  describe('GET /products/:product_id/styles', () => {
    it('when styles have photos and skus, then ids order them, product_id is a string and prices have two decimals', () =>
      expectDocument('/products/1/styles', EXPECTED.styles1));
    it('when a photo lacks its thumbnail, then thumbnail_url is null', () => expectDocument('/products/2/styles', EXPECTED.styles2));
    it('when the product has no styles, then results is []', () => expectDocument('/products/7/styles', EXPECTED.styles7));
  });

  describe('GET /products/:product_id/related', () => {
    it('when related rows repeat or name 0, itself or unknown ids, then those are left out in source row order', () =>
      expectDocument('/products/1/related', EXPECTED.related1));
    it('when another product relates back, then it is listed', () => expectDocument('/products/2/related', EXPECTED.related2));
    it('when there are no related rows, then the answer is []', () => expectDocument('/products/3/related', EXPECTED.related3));
  });

  describe('GET /products', () => {
    it('when no query is given, then page 1 holds the first 5 products by id', () =>
      expectDocument('/products', EXPECTED.list.slice(0, 5)));
    it('when ids have gaps, then pages follow positions, not ids', async () => {
      await expectDocument('/products?page=2&count=2', EXPECTED.list.slice(2, 4));
      await expectDocument('/products?page=3&count=2', EXPECTED.list.slice(4, 6));
      await expectDocument('/products?page=2&count=5', EXPECTED.list.slice(5, 6));
    });
    it('when the page is past the end, then the answer is [] with 200', async () => {
      await expectDocument('/products?page=4&count=2', []);
      await expectDocument('/products?page=2147483647&count=1000', []);
    });
    it('when count is 1000, then all products fit one page', () => expectDocument('/products?count=1000', EXPECTED.list));
    it('when count is above 1000, then it is served as 1000, not refused', async () => {
      for (const count of ['1001', '2000', '10000', '12345678901234567890']) {
        await expectDocument(`/products?count=${count}`, EXPECTED.list);
        await expectDocument(`/products?page=2&count=${count}`, []);
      }
    });
    for (const [query, param] of [
      ['page=abc', 'page'], ['page=0', 'page'], ['page=-1', 'page'], ['page=1.5', 'page'], ['page=', 'page'],
      ['page=12345678901234567890', 'page'], ['page=2147483648', 'page'], ['page=1&page=2', 'page'],
    ] as const) {
      it(`when ${query}, then 400 names ${param} and its range`, () =>
        expectError(`/products?${query}`, 400, new RegExp(`^${param} must be an integer from 1 to \\d+$`)));
    }
    for (const query of ['count=0', 'count=', 'count=abc', 'count=-1', 'count=1.5', 'count=1e3', 'count=%20', 'count=+5', 'count=1&count=2']) {
      it(`when ${query}, then 400 names count, its range and the clamp`, () =>
        expectError(`/products?${query}`, 400, /^count must be an integer of at least 1 \(a count above 1000 is served as 1000\)$/));
    }
  });

  describe('what recorded storefront traffic sends', () => {
    it('when a path ends in a slash, then it is the same route as without', async () => {
      for (const [path, expected] of [
        ['/products/', EXPECTED.list.slice(0, 5)],
        ['/products/?page=2&count=2', EXPECTED.list.slice(2, 4)],
        ['/products/1/', EXPECTED.product1],
        ['/products/1/styles/', EXPECTED.styles1],
        ['/products/1/related/', EXPECTED.related1],
      ] as const) {
        await expectDocument(path, expected);
      }
      await expectError('/products/4/styles/', 404);
      await expectError('/products/abc/', 400, /product_id must be an integer/);
    });
    it('when an Authorization header or unknown query parameters are sent, then the answer is the same bytes and ETag', async () => {
      // Identity asked for explicitly: a document compressed between the two requests (its third)
      // would otherwise change representation and ETag (test/http/compression.test.ts covers that).
      const identity = { 'Accept-Encoding': 'identity' };
      for (const path of ['/products/1', '/products/1/styles', '/products/1/related', '/products?page=1&count=3']) {
        const plain = await get(path, identity);
        const sep = path.includes('?') ? '&' : '?';
        const dressed = await get(`${path}${sep}sort=newest&campus=hr-rfp&_=1733300000`, { Authorization: 'ghp_storefrontToken123', ...identity });
        expect(dressed.status, path).to.equal(200);
        expect(await dressed.text(), path).to.equal(await plain.text());
        expect(dressed.headers.get('etag'), path).to.equal(plain.headers.get('etag'));
      }
    });
  });

  describe('errors', () => {
    for (const id of ['abc', '0', '-3', '1e3', '99999999999', '2147483648', '01', '1.0', '%20', '%E2%82%AC', '1%00']) {
      it(`when product_id is "${id}", then 400 on all three routes`, async () => {
        for (const suffix of ['', '/styles', '/related']) {
          await expectError(`/products/${id}${suffix}`, 400, /product_id must be an integer/);
        }
      });
    }
    it('when the id is well-formed but unknown, then 404 on all three routes', async () => {
      for (const suffix of ['', '/styles', '/related']) await expectError(`/products/4${suffix}`, 404, /not found/i);
      await expectError('/products/2147483647', 404);
    });
    it('when the path is unknown, then 404 JSON', async () => {
      await expectError('/nope', 404);
      await expectError('/products/1/unknown', 404);
    });
    it('when the method is not GET, HEAD or OPTIONS on a known path, then 405 JSON with Allow', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        for (const path of ['/products', '/products/1', '/products/1/styles', '/products/1/related', '/healthz', '/products/1/styles/']) {
          const res = await expectError(path, 405, /method not allowed/i, { method });
          expect(res.headers.get('allow')).to.equal('GET, HEAD, OPTIONS');
        }
      }
    });
    it('when a URL has malformed percent-encoding, then 400 JSON, not 500', async () => {
      await expectError('/products/%E0%A4%A', 400);
    });
  });

  describe('HTTP caching', () => {
    it('when a document is served, then it carries a strong ETag and Cache-Control max-age', async () => {
      const res = await get('/products/1/styles');
      expect(res.headers.get('etag')).to.match(/^"[A-Za-z0-9_-]{20,}"$/);
      expect(res.headers.get('cache-control')).to.equal('public, max-age=60');
    });
    it('when If-None-Match matches, then 304 with no body; when it does not, then 200', async () => {
      // One representation throughout: fetch asks for gzip, and a document compressed between
      // two requests changes representation and ETag (test/http/compression.test.ts covers that).
      const identity = { 'Accept-Encoding': 'identity' };
      const etag = (await get('/products/1', identity)).headers.get('etag')!;
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const res = await get('/products/1', { 'If-None-Match': header, ...identity });
        expect(res.status, header).to.equal(304);
        expect(await res.text()).to.equal('');
        expect(res.headers.get('etag')).to.equal(etag);
      }
      expect((await get('/products/1', { 'If-None-Match': '"stale"', ...identity })).status).to.equal(200);
    });
    it('when two documents differ, then their ETags differ; the same document keeps its ETag', async () => {
      const identity = { 'Accept-Encoding': 'identity' };
      const a = (await get('/products/1', identity)).headers.get('etag');
      const b = (await get('/products/2', identity)).headers.get('etag');
      const list = (await get('/products?page=1&count=5', identity)).headers.get('etag');
      expect(a).to.not.equal(b);
      expect(list).to.not.equal(a);
      expect((await get('/products/1', identity)).headers.get('etag')).to.equal(a);
    });
    it('when HEAD is used, then headers match GET with no body', async () => {
      // Identity: HEAD of a compressed representation is in test/http/compression.test.ts.
      const res = await fetch(`${app.url}/products/1/styles`, { method: 'HEAD', headers: { 'Accept-Encoding': 'identity' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-length')).to.equal(String(Buffer.byteLength(JSON.stringify(EXPECTED.styles1))));
      expect(await res.text()).to.equal('');
    });
  });

  describe('request ids and logging', () => {
    it('when X-Request-Id is sent, then it is echoed and logged once with method, route, status and duration', async () => {
      const res = await get('/products/2', { 'X-Request-Id': 'req-abc.123' });
      expect(res.headers.get('x-request-id')).to.equal('req-abc.123');
      const lines = app.logLines().filter((l) => l.reqId === 'req-abc.123');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ method: 'GET', route: '/products/:product_id', status: 200 });
      expect(lines[0]!.ms).to.be.a('number');
    });
    it('when no or an unsafe X-Request-Id is sent, then a fresh UUID is used', async () => {
      for (const headers of [{}, { 'X-Request-Id': 'bad id\twith "spaces"' }] as Array<Record<string, string>>) {
        const res = await get('/products/2', headers);
        expect(res.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
      }
    });
    it('when any response is sent, then it says nosniff and names no server software', async () => {
      for (const path of ['/products/1', '/nope', '/products/abc']) {
        const res = await get(path);
        expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
        expect(res.headers.get('x-powered-by')).to.equal(null);
        expect(res.headers.get('server')).to.equal(null);
      }
    });
  });

  describe('operational routes', () => {
    it('when the catalog is loaded, then /healthz and /readyz are 200 and name the running version', async () => {
      const health = await get('/healthz');
      expect(health.status).to.equal(200);
      expect(await health.json()).to.deep.equal({ status: 'ok', version: APP_VERSION });
      const ready = await get('/readyz');
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({ status: 'ready', version: APP_VERSION });
    });
  });

  describe('GET /products with more products than the largest page', () => {
    // 1,205 products with ids 3, 6, 9, …: positions, not ids, decide the pages.
    const ids = Array.from({ length: 1205 }, (_, i) => 3 * (i + 1));
    let big: TestDatabase;
    let bigApp: RunningApp;
    before(async () => {
      big = await createTestDatabase();
      await loadCatalog(big.url, { products: ids.map((id) => ({ id, name: `P${id}`, default_price: 1 })) });
      bigApp = await startApp(big.url);
    });
    after(async () => {
      await bigApp?.close();
      await big?.drop();
    });
    const pageIds = async (query: string): Promise<number[]> => {
      const res = await fetch(`${bigApp.url}/products?${query}`);
      expect(res.status, query).to.equal(200);
      return ((await res.json()) as Array<{ id: number }>).map((p) => p.id);
    };

    it('when count is above 1000, then pages hold 1000 products at the positions of count 1000', async () => {
      for (const count of ['1000', '1001', '2000', '10000']) {
        expect(await pageIds(`count=${count}`), count).to.deep.equal(ids.slice(0, 1000));
        expect(await pageIds(`page=2&count=${count}`), count).to.deep.equal(ids.slice(1000));
        expect(await pageIds(`page=3&count=${count}`), count).to.deep.equal([]);
      }
      expect(await pageIds('page=2&count=999')).to.deep.equal(ids.slice(999, 1205));
    });
  });
});
