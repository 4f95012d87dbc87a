import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Middleware } from 'koa';
import type { CorsOrigins } from '../config';

/** Methods the API answers, in `Allow` and `Access-Control-Allow-Methods` alike. */
export const ALLOWED_METHODS = 'GET, HEAD, OPTIONS';
// Response headers a page may read beyond the CORS-safelisted ones: the validator it sends
// back, the id to quote in a support ticket, and when to retry a 503 or 429.
const EXPOSE_HEADERS = 'ETag, X-Request-Id, Retry-After';
// Named when a preflight lists no headers. Authorization is always named explicitly: the
// `*` wildcard does not cover it.
const DEFAULT_ALLOW_HEADERS = 'Authorization, If-None-Match, X-Request-Id';
// 24 h, in seconds: browsers cap it lower (Chromium at 2 h), so this is "as long as allowed".
const MAX_AGE_SECONDS = '86400';
// A comma-separated list of header names (RFC 9110 tokens), as browsers send in
// Access-Control-Request-Headers; bounded so an echo cannot grow a response header.
const HEADER_NAMES = /^[!#$%&'*+.^_`|~\w-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~\w-]+)*$/;
const MAX_REQUEST_HEADERS_LENGTH = 1024;

export interface Cors {
  /**
   * Sets the CORS headers on every response to an allowed origin, before any handler runs,
   * so documents, 304s, errors and sheds all carry them. Headers are prebuilt constants.
   */
  middleware: Middleware;
  /** What the middleware does, for the document front (src/http/document-front.ts). */
  headers(req: IncomingMessage, res: ServerResponse): void;
  /** Adds the preflight answer's headers when `ctx` is a preflight from an allowed origin. */
  preflight(ctx: Context): void;
}

/**
 * The CORS policy for `origins`. With `*` every response carries `Access-Control-Allow-Origin: *`,
 * with or without an `Origin` header: it is then the same for every client, so a shared cache
 * (nginx's microcache, a CDN) may hand it to a browser. With a list, a listed origin is echoed
 * and every response says `Vary: Origin`; any other origin gets no CORS headers (its browser
 * blocks the answer). Never `Access-Control-Allow-Credentials`: the API takes no cookies.
 */
export function createCors(origins: CorsOrigins): Cors {
  const listed = origins === '*' ? undefined : new Set(origins);

  /** Whether a request from `origin` may read the answer. */
  const allows = (origin: string | undefined): boolean => listed === undefined || (origin !== undefined && listed.has(origin));

  const headers: Cors['headers'] =
    listed === undefined
      ? (_req, res) => {
          res.setHeader('Access-Control-Allow-Origin', '*');
          res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
        }
      : (req, res) => {
          res.setHeader('Vary', 'Origin');
          const origin = req.headers.origin;
          if (allows(origin)) {
            res.setHeader('Access-Control-Allow-Origin', origin!);
            res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
          }
        };
  // node's setHeader: koa's ctx.set allocates per call (see routes.ts).
  const middleware: Middleware = function cors(ctx, next) {
    headers(ctx.req, ctx.res);
    return next();
  };

  return {
    middleware,
    headers,
    preflight(ctx) {
      const asked = ctx.req.headers;
      if (asked['access-control-request-method'] === undefined || !allows(asked.origin)) return;
      const requested = asked['access-control-request-headers'];
      const res = ctx.res;
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      // Every requested header is allowed: the API ignores headers it does not use.
      res.setHeader(
        'Access-Control-Allow-Headers',
        requested !== undefined && requested.length <= MAX_REQUEST_HEADERS_LENGTH && HEADER_NAMES.test(requested)
          ? requested
          : DEFAULT_ALLOW_HEADERS,
      );
      res.setHeader('Access-Control-Max-Age', MAX_AGE_SECONDS);
      res.setHeader('Vary', listed === undefined ? 'Access-Control-Request-Headers' : 'Origin, Access-Control-Request-Headers');
    },
  };
}
