import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { RequestObserver } from '../metrics/http';
import { routeTemplate } from './route-template';

// An incoming id is honoured only if it is short and plain, so it cannot forge log lines.
const VALID_ID = /^[\w.:@-]{1,128}$/;

/**
 * Outermost middleware: assigns the request id (echoed as X-Request-Id), sets the headers
 * every response carries, and writes one log line per request when it completes. With
 * `metrics`, every request is also reported there (once, with its final status).
 */
export function requestLog(log: Logger, metrics?: RequestObserver): Middleware {
  // One child logger per (method, route template) seen: pino serialises a child's bindings
  // once, so a request line only formats what differs per request. Only GET/HEAD on matched
  // routes are cached, which bounds the maps at the route count each; keyed by the route
  // string itself, nothing is built per request.
  const children = { GET: new Map<string, Logger>(), HEAD: new Map<string, Logger>() };
  const lineLogger = (method: string, route: string | undefined): Logger | undefined => {
    if (route === undefined || (method !== 'GET' && method !== 'HEAD')) return undefined;
    const byRoute = children[method];
    let child = byRoute.get(route);
    if (child === undefined) {
      child = log.child({ method, route });
      byRoute.set(route, child);
    }
    return child;
  };

  return async function logRequest(ctx, next) {
    const started = process.hrtime.bigint();
    const incoming = ctx.req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    // node's setHeader directly: koa's ctx.set allocates arrays per call (see routes.ts).
    ctx.res.setHeader('X-Request-Id', requestId);
    ctx.res.setHeader('X-Content-Type-Options', 'nosniff');
    metrics?.started();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeTemplate(ctx);
      metrics?.finished(route, ctx.method, ctx.status, seconds);
      if (log.isLevelEnabled('info')) {
        // Milliseconds to the microsecond: shorter to format than a full double.
        const line = { reqId: requestId, status: ctx.status, ms: Math.round(seconds * 1e6) / 1e3 };
        const child = lineLogger(ctx.method, route);
        if (child) child.info(line);
        else log.info({ method: ctx.method, route: route ?? null, ...line });
      }
    }
  };
}
