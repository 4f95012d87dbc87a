import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

// An incoming id is honoured only if it is short and plain, so it cannot forge log lines.
const VALID_ID = /^[\w.:@-]{1,128}$/;

/**
 * Outermost middleware: assigns the request id (echoed as X-Request-Id), sets the headers
 * every response carries, and writes one log line per request when it completes.
 */
export function requestLog(log: Logger): Middleware {
  return async function logRequest(ctx, next) {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const requestId = VALID_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    ctx.set('X-Content-Type-Options', 'nosniff');
    try {
      await next();
    } finally {
      if (log.isLevelEnabled('info')) {
        log.info({
          reqId: requestId,
          method: ctx.method,
          route: (ctx as { _matchedRoute?: string })._matchedRoute ?? null,
          status: ctx.status,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        });
      }
    }
  };
}
