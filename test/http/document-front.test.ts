import { expect } from 'chai';
import fc from 'fast-check';
import http from 'node:http';
import Koa from 'koa';
import { createApp } from '../../src/app';
import { NOT_FOUND, type CacheEntry } from '../../src/catalog/cache';
import type { DocumentKind, DocumentStore } from '../../src/catalog/documents';
import { CatalogOverloadedError } from '../../src/catalog/errors';
import type { CorsOrigins } from '../../src/config';
import type { RequestObserver } from '../../src/metrics/http';
import { createHttpServer } from '../../src/http/server';
import { testDocument } from '../support/documents';
import { memoryLogger } from '../support/silent-logger';

/**
 * Documents whose answer depends on the id: 1–5 cached (synchronous), 6–9 read (a promise),
 * 10–12 unknown, 13 the database down (503), 14 the reads at their bound (503, expected), 15 a
 * fault (500, logged); every other id unknown. Compressed representations: 1 and 6 both, 2
 * brotli only, 3 gzip only, 4 both found no smaller; the rest none yet.
 */
function documents(): DocumentStore & { reads: () => number; encodes: string[] } {
  let reads = 0;
  const encodes: string[] = [];
  const CODINGS: Record<number, Parameters<typeof testDocument>[3]> = { 1: { br: true, gzip: true }, 6: { br: true, gzip: true }, 2: { br: true }, 3: { gzip: true }, 4: { br: null, gzip: null } };
  const doc = (kind: DocumentKind, id: number) =>
    testDocument(`${kind}${id}`, `{"kind":"${kind}","id":${id},"name":"Caf\u00c3\u00a9","padding":"${'x'.repeat(200)}"}`, `"${kind}-${id}"`, CODINGS[id]);
  return {
    reads: () => reads,
    encodes,
    encode: (d, coding) => void encodes.push(`${d.key} ${coding}`),
    product(kind, id): CacheEntry | Promise<CacheEntry> {
      reads++;
      if (id <= 5) return doc(kind, id);
      if (id <= 9) return new Promise((resolve) => setImmediate(() => resolve(doc(kind, id))));
      if (id === 13) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
      if (id === 14) return Promise.reject(new CatalogOverloadedError());
      if (id === 15) return Promise.reject(new Error('relation "catalog.styles_doc" does not exist'));
      return NOT_FOUND;
    },
    page: () => testDocument('l1:5', '[]', '"page"'),
    invalidate: () => undefined,
    drop: () => 0,
    warm: async () => undefined,
    cacheStats: () => ({ hits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0, pages: 0, compressions: 0, compressionFailures: 0, refreshes: 0, refused: 0 }),
  };
}

/** Every request the app reported, as `started` and `finished` calls in order. */
function recordingMetrics(): RequestObserver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    started: () => void calls.push('started'),
    finished: (route, method, status) => void calls.push(`finished ${route} ${method} ${status}`),
    sent: (encoding, bytes, identityBytes) => void calls.push(`sent ${encoding} ${bytes} ${identityBytes}`),
  };
}

interface Served {
  url: string;
  close(): Promise<void>;
  lines: () => Array<Record<string, unknown>>;
  metrics: ReturnType<typeof recordingMetrics>;
  store: ReturnType<typeof documents>;
}

/** The app as createApp wires it (front first), or the same app's koa chain alone. */
async function serveApp(corsAllowOrigins: CorsOrigins, front: boolean): Promise<Served> {
  const { log, lines } = memoryLogger();
  const metrics = recordingMetrics();
  const store = documents();
  const app = createApp({ log, documents: store, checkReady: async () => undefined, version: 'test', httpMaxAgeSeconds: 60, corsAllowOrigins, metrics });
  const server = createHttpServer(front ? app.callback() : Koa.prototype.callback.call(app));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    lines,
    metrics,
    store,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** One real HTTP exchange: status, every header in order (Date left out, a generated id named), body. */
function exchange(base: string, method: string, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: string[]; body: string }>((resolve, reject) => {
    const req = http.request(base + path, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const raw: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const [name, value] = [res.rawHeaders[i]!, res.rawHeaders[i + 1]!];
          if (name === 'Date') continue;
          raw.push(`${name}: ${name === 'X-Request-Id' && UUID.test(value) ? '<generated uuid>' : value}`);
        }
        resolve({ status: res.statusCode!, headers: raw, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The lines a request added, without what differs run to run (time, pid, duration, a generated id). */
function newLines(served: Served, before: number) {
  return served
    .lines()
    .slice(before)
    .map(({ time: _t, pid: _p, ms, reqId, err, ...rest }) => ({
      ...rest,
      ms: typeof ms,
      reqId: typeof reqId === 'string' && UUID.test(reqId) ? '<generated uuid>' : reqId,
      err: (err as { message?: string } | undefined)?.message,
    }));
}

for (const cors of ['*', ['https://shop.example']] as CorsOrigins[]) {
  describe(`document front (CORS ${JSON.stringify(cors)})`, () => {
    let front: Served;
    let koaOnly: Served;
    before(async () => ([front, koaOnly] = await Promise.all([serveApp(cors, true), serveApp(cors, false)])));
    after(async () => Promise.all([front?.close(), koaOnly?.close()]));

    it('when any request is sent, then status, headers, body, log lines and metrics equal koa alone', async () => {
      const id = fc.oneof(fc.integer({ min: 1, max: 16 }).map(String), fc.constantFrom('0', '01', '2147483647', '2147483648', 'abc'));
      const suffix = fc.constantFrom('', '/', '/styles', '/related', '/styles/', '/STYLES', '/photos', '//styles');
      const query = fc.constantFrom('', '', '', '?x=1', '?');
      const prefix = fc.constantFrom('/products/', '/products/', '/Products/', '//products/');
      const method = fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'OPTIONS');
      const header = (name: string, values: string[]) => fc.option(fc.constantFrom(...values), { nil: undefined }).map((v) => (v === undefined ? {} : { [name]: v }));
      const headers = fc
        .tuple(
          header('If-None-Match', ['"styles-3"', '"product-7"', 'W/"related-2"', '*', '"other"', '"a", "product-1"', '', '"product-1-br"', '"styles-3-gzip"', '"related-6-br", "x"']),
          header('Accept-Encoding', ['br, gzip', 'gzip', 'br;q=0, gzip', 'gzip;q=1, br;q=0.5', 'identity', '*', '*;q=0', 'identity;q=0', 'x-gzip', '']),
          header('X-Request-Id', ['shop-42', 'bad id with spaces', 'x'.repeat(129)]),
          header('Origin', ['https://shop.example', 'https://evil.example']),
        )
        .map((parts) => Object.assign({}, ...parts) as Record<string, string>);
      await fc.assert(
        fc.asyncProperty(prefix, id, suffix, query, method, headers, async (p, i, s, q, m, h) => {
          const path = p + i + s + q;
          const before = [front.lines().length, koaOnly.lines().length, front.metrics.calls.length, koaOnly.metrics.calls.length];
          const [a, b] = await Promise.all([exchange(front.url, m, path, h), exchange(koaOnly.url, m, path, h)]);
          const what = `${m} ${path} ${JSON.stringify(h)}`;
          expect(a, what).to.deep.equal(b);
          expect(newLines(front, before[0]!), what).to.deep.equal(newLines(koaOnly, before[1]!));
          expect(front.metrics.calls.slice(before[2]), what).to.deep.equal(koaOnly.metrics.calls.slice(before[3]));
          expect(front.store.encodes.length, what).to.equal(koaOnly.store.encodes.length);
        }),
        { numRuns: 400 },
      );
    });

    it('when a read fails or the id is unknown, then koa answers it without reading again', async () => {
      for (const [path, status] of [['/products/13', 503], ['/products/14/styles', 503], ['/products/15/related', 500], ['/products/11', 404]] as const) {
        const reads = front.store.reads();
        const res = await exchange(front.url, 'GET', path, {});
        expect(res.status, path).to.equal(status);
        // An unknown id is answered from the cache again (one more lookup, no read); a failed read is not repeated.
        expect(front.store.reads() - reads, path).to.equal(status === 404 ? 2 : 1);
        expect(res.body).to.match(/^\{"error":"[^"]+"\}$/);
      }
    });
  });
}
