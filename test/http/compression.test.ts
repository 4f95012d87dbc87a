import { expect } from 'chai';
import fc from 'fast-check';
import http from 'node:http';
import zlib from 'node:zlib';
import { NOT_FOUND, type Document } from '../../src/catalog/cache';
import { compressSync } from '../../src/catalog/compression';
import { startApp, type RunningApp } from '../support/app';
import { loadCatalog } from '../support/catalog';
import { FIXTURE } from '../support/fixture';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { sleep } from '../support/wait';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One real exchange, the body as its raw bytes on the wire (nothing decoded). */
function request(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function decode(res: Raw): Buffer {
  const coding = res.headers['content-encoding'];
  if (coding === 'br') return zlib.brotliDecompressSync(res.body);
  if (coding === 'gzip') return zlib.gunzipSync(res.body);
  expect(coding, 'content-encoding').to.equal(undefined);
  return res.body;
}

const PRODUCT_IDS = FIXTURE.products.map((p) => p.id);
const DOCUMENT_PATHS = PRODUCT_IDS.flatMap((id) => [`/products/${id}`, `/products/${id}/styles`, `/products/${id}/related`]);
const LISTING_PATHS = ['/products', '/products?page=1&count=100', '/products?page=2&count=2'];
const PATHS = [...DOCUMENT_PATHS, ...LISTING_PATHS];

describe('compressed documents (real PostgreSQL, real HTTP)', () => {
  let db: TestDatabase;
  let app: RunningApp;
  const identity = new Map<string, Buffer>();

  /** The cached document behind a path (the store's own entry). */
  const cached = async (path: string): Promise<Document> => {
    const url = new URL(path, 'http://x');
    const m = /^\/products\/(\d+)(?:\/(styles|related))?$/.exec(url.pathname);
    const entry = m
      ? await app.documents.product((m[2] as 'styles' | 'related' | undefined) ?? 'product', Number(m[1]))
      : await app.documents.page(Number(url.searchParams.get('page') ?? 1), Number(url.searchParams.get('count') ?? 5));
    if (entry === NOT_FOUND) throw new Error(`${path}: not found`);
    return entry;
  };

  /** Asks for `path` in each coding until the cache has decided both (compressed, or no smaller). */
  const settle = async (path: string): Promise<Document> => {
    for (let i = 0; i < 200; i++) {
      const doc = await cached(path);
      if (doc.br !== undefined && doc.gzip !== undefined) return doc;
      await request(app.url, path, { 'Accept-Encoding': doc.br === undefined ? 'br' : 'gzip' });
      await sleep(5);
    }
    throw new Error(`${path} was never compressed`);
  };

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
    // Compressed at the first request wanting a coding: the tests need not warm documents up.
    app = await startApp(db.url, { compressAfterRequests: 1 });
    for (const path of PATHS) {
      const res = await request(app.url, path);
      expect(res.status, path).to.equal(200);
      identity.set(path, res.body);
    }
    for (const path of PATHS) await settle(path);
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  it('when a client accepts br or gzip, then every route answers in it, decoding to the identity bytes, or identity where compression gains nothing', async () => {
    let compressed = 0;
    for (const path of PATHS) {
      const doc = await cached(path);
      for (const coding of ['br', 'gzip'] as const) {
        const res = await request(app.url, path, { 'Accept-Encoding': coding });
        const what = `${coding} ${path}`;
        expect(res.status, what).to.equal(200);
        expect(res.headers.vary, what).to.equal('Accept-Encoding');
        expect(Number(res.headers['content-length']), what).to.equal(res.body.length);
        expect(decode(res).equals(identity.get(path)!), what).to.equal(true);
        if (doc[coding] === null) {
          // Only where the coding's bytes are no smaller than identity's.
          expect(res.headers['content-encoding'], what).to.equal(undefined);
          expect(compressSync(coding, identity.get(path)!).length, what).to.be.at.least(identity.get(path)!.length);
        } else {
          compressed++;
          expect(res.headers['content-encoding'], what).to.equal(coding);
          expect(res.body.length, what).to.be.below(identity.get(path)!.length);
          expect(res.headers.etag, what).to.match(new RegExp(`^"[\\w-]+-${coding}"$`));
        }
      }
    }
    // Most fixture documents are large enough to shrink: the branch above must not be the only one.
    expect(compressed).to.be.above(PATHS.length);
  });

  it('when Accept-Encoding names codings with q-values, then the most preferred stored one is sent, identity when none is acceptable', async () => {
    const path = '/products/1/styles';
    const cases: Array<[string | undefined, string | undefined]> = [
      [undefined, undefined],
      ['', undefined],
      ['br, gzip', 'br'],
      ['gzip, br', 'br'],
      ['gzip;q=1, br;q=0.9', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['br;q=0, gzip;q=0', undefined],
      ['identity', undefined],
      ['*', 'br'],
      ['*;q=0.5, br;q=0', 'gzip'],
      ['*;q=0', undefined],
      ['identity;q=0', undefined],
      ['identity;q=0, gzip', 'gzip'],
      ['x-gzip', 'gzip'],
      ['GZIP', 'gzip'],
      [' br ; q=0.8 , gzip ; q=0.7 ', 'br'],
      ['br;q=0.5, identity', undefined],
      ['br;q=0.5, identity;q=0.5', 'br'],
      ['gzip;q=0.3, identity;q=0.4', undefined],
      ['br;q=1.0, gzip;q=1', 'br'],
      ['br;q=abc, gzip;q=0.1', 'gzip'],
      ['br;q=1.5', undefined],
      ['deflate, zstd', undefined],
      ['zstd, gzip;q=0.2', 'gzip'],
      ['gzip;level=9', 'gzip'],
    ];
    for (const [header, coding] of cases) {
      const res = await request(app.url, path, header === undefined ? {} : { 'Accept-Encoding': header });
      const what = JSON.stringify(header);
      expect(res.status, what).to.equal(200);
      expect(res.headers['content-encoding'], what).to.equal(coding);
      expect(res.headers.vary, what).to.equal('Accept-Encoding');
      expect(decode(res).equals(identity.get(path)!), what).to.equal(true);
    }
  });

  it('when a client sends back the ETag of the representation it holds, then it gets a 304 for it', async () => {
    for (const path of ['/products/1', '/products/1/styles', '/products?page=1&count=100']) {
      const tags: Record<string, string> = {};
      for (const coding of ['identity', 'br', 'gzip']) {
        const res = await request(app.url, path, { 'Accept-Encoding': coding });
        tags[coding] = res.headers.etag!;
      }
      expect(new Set(Object.values(tags)).size, path).to.equal(3);
      for (const [coding, tag] of Object.entries(tags)) {
        const res = await request(app.url, path, { 'Accept-Encoding': coding, 'If-None-Match': tag });
        const what = `${coding} ${path}`;
        expect(res.status, what).to.equal(304);
        expect(res.headers.etag, what).to.equal(tag);
        expect(res.headers.vary, what).to.equal('Accept-Encoding');
        expect(res.headers['content-encoding'], what).to.equal(undefined);
        expect(res.body.length, what).to.equal(0);
      }
      // A copy the client still accepts is current even if another is now preferred…
      const held = await request(app.url, path, { 'Accept-Encoding': 'br, gzip', 'If-None-Match': tags.identity! });
      expect([held.status, held.headers.etag], path).to.deep.equal([304, tags.identity]);
      // …and one it no longer accepts is not: the full answer in what it accepts.
      const refused = await request(app.url, path, { 'Accept-Encoding': 'gzip', 'If-None-Match': tags.br! });
      expect([refused.status, refused.headers.etag, refused.headers['content-encoding']], path).to.deep.equal([200, tags.gzip, 'gzip']);
    }
  });

  it('when HEAD asks for a compressed document, then its headers are the GET answer’s, length included, without a body', async () => {
    for (const path of ['/products/1/styles', '/products?page=1&count=100']) {
      const got = await request(app.url, path, { 'Accept-Encoding': 'br' });
      const head = await request(app.url, path, { 'Accept-Encoding': 'br' }, 'HEAD');
      expect(head.status).to.equal(200);
      expect(head.body.length).to.equal(0);
      for (const name of ['content-encoding', 'content-length', 'etag', 'vary', 'content-type']) expect(head.headers[name], `${path} ${name}`).to.equal(got.headers[name]);
      expect(head.headers['content-encoding']).to.equal('br');
    }
  });

  it('when any Accept-Encoding is sent, then a document is always answered, in a coding the client accepted or in identity, never 406', async () => {
    const name = fc.constantFrom('br', 'BR', 'gzip', 'x-gzip', 'Gzip', 'identity', '*', 'deflate', 'zstd', 'compress', '', 'br;', 'q=1');
    const q = fc.option(fc.oneof(fc.constantFrom('0', '1', '0.5', '0.001', '1.000', '0.0', '1.1', '-1', 'x', ''), fc.double({ min: 0, max: 1, noNaN: true }).map((n) => n.toFixed(3))), { nil: undefined });
    const element = fc.tuple(name, q, fc.constantFrom('', ' ', '\t')).map(([n, w, ws]) => `${ws}${n}${w === undefined ? '' : `${ws};${ws}q=${w}`}${ws}`);
    const header = fc.array(element, { maxLength: 5 }).map((parts) => parts.join(','));
    const path = fc.constantFrom(...PATHS);
    await fc.assert(
      fc.asyncProperty(header, path, async (h, p) => {
        const res = await request(app.url, p, { 'Accept-Encoding': h });
        const what = `${JSON.stringify(h)} ${p}`;
        expect(res.status, what).to.equal(200);
        expect(decode(res).equals(identity.get(p)!), what).to.equal(true);
        const coding = res.headers['content-encoding'];
        if (coding !== undefined) expect(accepts(h, coding), what).to.equal(true);
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The test's own reading of RFC 9110 §12.5.3, independent of the service's parser: whether
 * `header` accepts `coding` (named with q > 0, or not named and `*` with q > 0).
 */
function accepts(header: string, coding: string): boolean {
  let named: number | undefined;
  let star: number | undefined;
  for (const element of header.split(',')) {
    const [n = '', ...params] = element.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const weight = qParam === undefined ? 1 : /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(qParam.slice(2).trim()) ? Number(qParam.slice(2)) : undefined;
    if (weight === undefined) continue;
    if (n === coding || (coding === 'gzip' && n === 'x-gzip')) named = Math.max(named ?? 0, weight);
    if (n === '*') star = Math.max(star ?? 0, weight);
  }
  return (named ?? star ?? 0) > 0;
}
