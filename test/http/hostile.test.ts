import { expect } from 'chai';
import fc from 'fast-check';
import net from 'node:net';
import { MAX_HEADER_BYTES } from '../../src/http/server';
import { startApp, type RunningApp } from '../support/app';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { FIXTURE } from '../support/fixture';

/** Generated inputs per property; each one is a real HTTP exchange. */
const RUNS = 300;

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** Sends raw bytes and reads one response (the server closes or answers within 3 s). */
function raw(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 3 s to ${JSON.stringify(request.toString().slice(0, 200))}`));
    }, 3000);
    socket.on('data', (c) => {
      data += c.toString('latin1');
      const head = data.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = /content-length: (\d+)/i.exec(data.slice(0, head));
      if (length && data.length >= head + 4 + Number(length[1])) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const head = data.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, headers: data.slice(0, head), body: data.slice(head + 4) });
    });
    // Not end(): a half-closed socket lets the server drop a response still being prepared.
    socket.write(request);
  });
}

function expectWellFormed(res: RawResponse, what: string, head = false): void {
  expect(res.status, what).to.be.within(200, 499);
  if (res.status >= 400) {
    expect(res.headers, what).to.match(/content-type: application\/json; charset=utf-8/i);
    // A HEAD answer has the headers of the JSON error but no body.
    if (head) return;
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(body), what).to.deep.equal(['error']);
    expect(String(body.error), what).to.not.match(/at \/|\.ts:|\.js:|SELECT|postgres|node_modules/i);
  }
}

describe('hostile input (property-based, real HTTP)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let app: RunningApp;
  let port: number;

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
    // The worker's own server (src/http/limits.ts), through the shared test app.
    app = await startApp(db.url);
    port = Number(new URL(app.url).port);
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  const segment = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent),
    fc.constantFrom('products', '1', '0', '-1', '2147483648', '99999999999999999999', 'styles', 'related', '..', '%', '%zz', '%00', '%C0%AF', "1'%20OR%201=1--", '1;DROP%20TABLE%20product', '%F0%9F%91%9F', '1e3', '0x10', '%2e%2e'),
    fc.integer({ min: -10, max: 3_000_000_000 }).map(String),
  );
  const pathArb = fc.array(segment, { minLength: 0, maxLength: 6 }).map((s) => '/' + s.join('/'));
  const queryArb = fc.dictionary(
    fc.constantFrom('page', 'count', 'x', '__proto__', 'constructor', 'page[]', 'count[a]'),
    fc.oneof(fc.string({ maxLength: 30 }).map(encodeURIComponent), fc.constantFrom('', '1', '0', '-1', '1.5', '1e3', 'NaN', 'Infinity', '1000', '1001', '99999999999999999999')),
  ).map((d) => Object.entries(d).map(([k, v]) => `${k}=${v}`).join('&'));
  const methodArb = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'get', 'G-E-T');

  it(`when paths, queries and methods are arbitrary, then every answer is < 500 and errors are JSON (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(methodArb, pathArb, queryArb, async (method, path, query) => {
        const target = query ? `${path}?${query}` : path;
        const res = await raw(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        if (method === 'get' || method === 'G-E-T') expect(res.status, target).to.equal(400);
        if (method === 'CONNECT') expect(res.status, target).to.be.oneOf([400, 405]);
        expectWellFormed(res, `${method} ${target}`, method === 'HEAD');
      }),
      { numRuns: RUNS },
    );
  });

  it(`when headers are arbitrary, then answers stay < 500 (${RUNS} runs)`, async () => {
    const headerArb = fc.dictionary(
      fc.constantFrom('X-Request-Id', 'If-None-Match', 'Accept', 'Accept-Encoding', 'Cookie', 'X-Forwarded-For', 'Range', 'Content-Length', 'Transfer-Encoding'),
      fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((s) => s.replace(/[\r\n]/g, '')),
    );
    await fc.assert(
      fc.asyncProperty(headerArb, fc.constantFrom('/products/1', '/products?page=2', '/products/5/styles'), async (headers, path) => {
        const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        const res = await raw(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${lines}Connection: close\r\n\r\n`);
        expectWellFormed(res, JSON.stringify(headers));
      }),
      { numRuns: RUNS },
    );
  });

  it('when the URL is huge, then 414 JSON; when headers are huge, then 431 JSON', async () => {
    const longUrl = await raw(port, `GET /products/1?x=${'a'.repeat(5000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(longUrl.status).to.equal(414);
    expectWellFormed(longUrl, 'long url');
    const bigHeader = await raw(port, `GET /products/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(MAX_HEADER_BYTES + 10)}\r\n\r\n`);
    expect(bigHeader.status).to.equal(431);
    expectWellFormed(bigHeader, 'big header');
  });

  it('when the request line is garbage, then 400 JSON and the socket closes', async () => {
    for (const junk of ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'HELLO\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /products/1 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n']) {
      const res = await raw(port, Buffer.from(junk, 'latin1'));
      expect(res.status, JSON.stringify(junk)).to.equal(400);
      expectWellFormed(res, JSON.stringify(junk));
    }
  });

  it('when a client offers a protocol upgrade, then it is ignored and the document served; a CONNECT tunnel gets 405 JSON', async () => {
    // What `curl --http2` sends over plain HTTP: the upgrade is optional and declining it is correct.
    const upgrade = await raw(port, 'GET /products/1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
    expect(upgrade.status).to.equal(200);
    expect(JSON.parse(upgrade.body)).to.include({ id: 1 });
    const tunnel = await raw(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(tunnel.status).to.equal(405);
    expect(tunnel.headers).to.match(/allow: GET, HEAD/i);
    expectWellFormed(tunnel, 'connect');
  });

  it('when the database still has its data after all of that, then injection-shaped input changed nothing', async () => {
    const { rows } = await app.pool.query('SELECT count(*)::int AS n FROM catalog.product');
    expect(rows[0].n).to.equal(FIXTURE.products.length);
  });
});
