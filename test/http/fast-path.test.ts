import { expect } from 'chai';
import fc from 'fast-check';
import Koa from 'koa';
import { createApp } from '../../src/app';
import { NOT_FOUND } from '../../src/catalog/cache';
import type { DocumentKind, DocumentStore } from '../../src/catalog/documents';
import { errorHandler } from '../../src/http/errors';
import { requestLog } from '../../src/http/request-log';
import { createCors } from '../../src/http/cors';
import { createRoutes } from '../../src/http/routes';
import { serve } from '../support/http';
import { createDocumentResponder } from '../../src/http/document-response';
import { testDocument } from '../support/documents';
import { memoryLogger } from '../support/silent-logger';

/** Documents for ids 1–9 (one per kind, naming kind and id); every other id is unknown. */
function documents(): DocumentStore & { reads: number } {
  const store = {
    reads: 0,
    product(kind: DocumentKind, id: number) {
      store.reads++;
      return id <= 9 ? testDocument(`${kind}${id}`, `{"kind":"${kind}","id":${id}}`, `"${kind}-${id}"`) : NOT_FOUND;
    },
    page: () => testDocument('l1:5', '[]', '"page"'),
    encode: () => undefined,
    invalidate: () => undefined,
    drop: () => 0,
    warm: async () => undefined,
    cacheStats: () => ({ hits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0, pages: 0, compressions: 0, compressionFailures: 0, refreshes: 0, refused: 0 }),
  };
  return store;
}

const deps = {
  checkReady: async () => undefined,
  version: 'test',
  httpMaxAgeSeconds: 60,
  corsAllowOrigins: '*' as const,
  cors: createCors('*'),
  responder: createDocumentResponder({ cacheControl: 'public, max-age=60', encode: () => undefined }),
};

/** The app as createApp wires it, and the same app with the router alone (no fast path). */
async function twoApps() {
  const withFastPath = memoryLogger();
  const fast = createApp({ ...deps, log: withFastPath.log, documents: documents() });
  const routerOnly = memoryLogger();
  const slow = new Koa();
  slow.silent = true;
  slow.use(requestLog(routerOnly.log));
  slow.use(errorHandler(routerOnly.log));
  const routes = createRoutes({ ...deps, documents: documents() });
  slow.use(routes.router.routes());
  slow.use(routes.unanswered);
  const [a, b] = await Promise.all([serve(fast), serve(slow)]);
  return { a, b, aLines: withFastPath.lines, bLines: routerOnly.lines };
}

async function answer(url: string, method: string) {
  const res = await fetch(url, { method });
  const headers = ['content-type', 'content-length', 'etag', 'cache-control', 'allow'].map((h) => res.headers.get(h));
  return { status: res.status, headers, body: await res.text() };
}

describe('document fast path', () => {
  let apps: Awaited<ReturnType<typeof twoApps>>;
  before(async () => (apps = await twoApps()));
  after(async () => Promise.all([apps?.a.close(), apps?.b.close()]));

  it('when any path or method is asked, then the answer and its logged route equal the router-only app', async () => {
    const id = fc.oneof(
      fc.integer({ min: 1, max: 12 }).map(String),
      fc.constantFrom('0', '01', '2147483647', '2147483648', '99999999999', '-1', '1.0', '%31', '1%2F', 'abc', ''),
    );
    const suffix = fc.constantFrom('', '/', '/styles', '/related', '/styles/', '/STYLES', '/styles/x', '/photos', '//styles');
    const query = fc.constantFrom('', '?x=1', '?page=2');
    const prefix = fc.constantFrom('/products/', '/Products/', '/products//', '//products/');
    const method = fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS');
    await fc.assert(
      fc.asyncProperty(prefix, id, suffix, query, method, async (p, i, s, q, m) => {
        const path = p + i + s + q;
        const [fromFast, fromRouter] = await Promise.all([answer(apps.a.url + path, m), answer(apps.b.url + path, m)]);
        expect(fromFast, `${m} ${path}`).to.deep.equal(fromRouter);
        const [lineA, lineB] = [apps.aLines().at(-1), apps.bLines().at(-1)];
        expect([lineA?.route, lineA?.status], `${m} ${path}`).to.deep.equal([lineB?.route, lineB?.status]);
      }),
      { numRuns: 300 },
    );
  });

  it('when a canonical document path is asked, then the fast path answers it without the router', async () => {
    const store = documents();
    const { log } = memoryLogger();
    const app = new Koa();
    app.silent = true;
    app.use(errorHandler(log));
    const routes = createRoutes({ ...deps, documents: store });
    app.use(routes.documentFastPath);
    app.use(routes.unanswered);
    const server = await serve(app);
    try {
      for (const path of ['/products/3', '/products/3/styles', '/products/3/related', '/products/3/', '/products/3/styles/', '/products/3/related/']) {
        const res = await fetch(server.url + path);
        expect(res.status, path).to.equal(200);
        expect(await res.text()).to.match(/"id":3\}$/);
      }
      expect(store.reads).to.equal(6);
    } finally {
      await server.close();
    }
  });
});
