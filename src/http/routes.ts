import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { IncomingMessage } from 'node:http';
import { NOT_FOUND, type CacheEntry } from '../catalog/cache';
import type { DocumentKind, DocumentStore } from '../catalog/documents';
import { ALLOWED_METHODS, type Cors } from './cors';
import type { DocumentResponder } from './document-response';
import { AppError } from './errors';
import { pathMatchedTemplate, setRouteTemplate } from './route-template';
import { parseCount, parseIntParam, parseProductId, PG_INT_MAX, PRODUCT_ID_DIGITS } from './params';

export interface RouteDeps {
  documents: DocumentStore;
  /** Resolves when the database answers and a catalog is loaded; rejects otherwise. */
  checkReady: () => Promise<void>;
  /** The running build, named in the /healthz and /readyz bodies. */
  version: string;
  /** Headers and representation of every document answer (shared with the document front). */
  responder: DocumentResponder;
  /** Adds the preflight headers to the answer to an OPTIONS request. */
  cors: Pick<Cors, 'preflight'>;
  /** A read of this request's document that already failed in the document front, if any. */
  failedRead?: (req: IncomingMessage) => { error: unknown } | undefined;
}

/** Most products on one listing page; a larger count is served as this many. */
const MAX_PAGE_COUNT = 1000;

// Client errors answered in floods (unknown ids served from the cached 404, scanners): one
// instance each instead of a new Error, with its captured stack, per request. 4xx are never
// logged, so the shared stack is never read.
const PRODUCT_NOT_FOUND = new AppError(404, 'Product not found');
const METHOD_NOT_ALLOWED = new AppError(405, 'Method not allowed', { Allow: ALLOWED_METHODS });
const ROUTE_NOT_FOUND = new AppError(404, 'Not found');

/** The documents' Cache-Control value, for the routes and the document front alike. */
export const documentCacheControl = (maxAgeSeconds: number): string => `public, max-age=${maxAgeSeconds}`;

function sendDocument(ctx: Context, entry: CacheEntry, responder: DocumentResponder): void {
  if (entry === NOT_FOUND) throw PRODUCT_NOT_FOUND;
  const body = responder.respond(ctx.req, ctx.res, entry);
  if (body === undefined) {
    ctx.status = 304;
    return;
  }
  // A copy per response (a memcpy; measured no slower than sending the cached bytes): a
  // socket that cannot take it all at once keeps the buffer, never the cache's memory.
  ctx.body = Buffer.from(body, 'latin1');
}

const PRODUCT_ROUTES = {
  product: '/products/:product_id',
  styles: '/products/:product_id/styles',
  related: '/products/:product_id/related',
} as const satisfies Record<DocumentKind, string>;
// The spellings of the three document routes storefronts send: canonical, or with the
// trailing slash some clients add (the router treats both alike, so must this).
const CANONICAL_DOCUMENT_PATH = new RegExp(`^/products/(${PRODUCT_ID_DIGITS})(?:/(styles|related))?/?$`);

/** A document route's request: which document, and the route template it is logged under. */
export interface DocumentRequest {
  kind: DocumentKind;
  id: number;
  template: string;
}

/**
 * The document a path (without its query) asks for, when it is a document route in a
 * spelling the router would take; undefined otherwise, an id beyond PG_INT_MAX included (the
 * router's 400).
 */
export function documentRequest(path: string): DocumentRequest | undefined {
  const match = CANONICAL_DOCUMENT_PATH.exec(path);
  if (match === null) return undefined;
  const id = Number(match[1]);
  if (id > PG_INT_MAX) return undefined;
  const kind = (match[2] as 'styles' | 'related' | undefined) ?? 'product';
  return { kind, id, template: PRODUCT_ROUTES[kind] };
}

export interface Routes {
  /**
   * Answers GET/HEAD of a document route in its canonical spelling, exactly as the router
   * would (same document handling and route template); passes anything else on, an id
   * beyond PG_INT_MAX included (the router's 400). Matching six routes in @koa/router cost
   * a worker about a tenth of its allocation per cache hit.
   */
  documentFastPath: Middleware;
  router: Router;
  /**
   * After the router: a request it did not answer. OPTIONS on a path some route matched is
   * a 204 with Allow (and the preflight headers, for a preflight); another method there is
   * a 405 with Allow; anything else is a 404. One check here instead of a catch-all layer
   * per route, which would double the layers every request is matched against.
   */
  unanswered: Middleware;
}

/** The Products routes of the contract plus the operational ones, with 405s for other methods. */
export function createRoutes(deps: RouteDeps): Routes {
  const router = new Router();
  const { responder } = deps;

  const serveProduct = async (ctx: Context, kind: DocumentKind, id: number): Promise<void> => {
    const found = deps.documents.product(kind, id);
    sendDocument(ctx, found instanceof Promise ? await found : found, responder);
  };
  const productRoute =
    (kind: DocumentKind): Middleware =>
    (ctx) =>
      serveProduct(ctx, kind, parseProductId(ctx.params.product_id));

  const documentFastPath: Middleware = (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const asked = documentRequest(ctx.path);
    if (asked === undefined) return next();
    setRouteTemplate(ctx, asked.template);
    // The document front read this document and failed: the error is answered here, once.
    const failed = deps.failedRead?.(ctx.req);
    if (failed !== undefined) throw failed.error;
    return serveProduct(ctx, asked.kind, asked.id);
  };

  const routes: Array<[string, Middleware]> = [
    [
      '/products',
      async (ctx) => {
        const page = parseIntParam('page', ctx.query.page, 1, 1, PG_INT_MAX);
        const count = parseCount(ctx.query.count, 5, MAX_PAGE_COUNT);
        const found = deps.documents.page(page, count);
        sendDocument(ctx, found instanceof Promise ? await found : found, responder);
      },
    ],
    [PRODUCT_ROUTES.product, productRoute('product')],
    [PRODUCT_ROUTES.styles, productRoute('styles')],
    [PRODUCT_ROUTES.related, productRoute('related')],
    [
      '/healthz',
      (ctx) => {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { status: 'ok', version: deps.version };
      },
    ],
    [
      '/readyz',
      async (ctx) => {
        ctx.set('Cache-Control', 'no-store');
        try {
          await deps.checkReady();
        } catch (err) {
          throw new AppError(503, 'Not ready', { 'Retry-After': '1' }, { cause: err });
        }
        ctx.body = { status: 'ready', version: deps.version };
      },
    ],
  ];

  for (const [path, handler] of routes) router.get(path, handler);

  const unanswered: Middleware = (ctx) => {
    const template = pathMatchedTemplate(ctx);
    if (template === undefined) throw ROUTE_NOT_FOUND;
    // Logged and measured under the route template, as the router does for answered requests.
    setRouteTemplate(ctx, template);
    if (ctx.method !== 'OPTIONS') throw METHOD_NOT_ALLOWED;
    ctx.res.setHeader('Allow', ALLOWED_METHODS);
    deps.cors.preflight(ctx);
    ctx.status = 204;
  };
  return { documentFastPath, router, unanswered };
}
