import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { requestLineWriter, type RequestLineWriter } from '../logger';
import type { RequestObserver } from '../metrics/http';
import { routeTemplate } from './route-template';

// An incoming id is honoured only if it is short and plain, so it cannot forge log lines (nor
// needs escaping in one: src/logger.ts's requestLineWriter writes it as is).
const VALID_ID = /^[\w.:@-]{1,128}$/;

/** A request as the log knows it from its start: its id and when it entered, in ns. */
export interface OpenRequest {
  readonly requestId: string;
  readonly started: bigint;
}

/**
 * The start and end of every request, for whoever answers it (koa's middleware below, or the
 * document front in src/http/document-front.ts): the request id (echoed as X-Request-Id), the
 * headers every response carries, the metrics, and one log line when it completes.
 */
export interface RequestLine {
  /** Assigns the id, sets the common headers and counts the request in flight. */
  open(req: IncomingMessage, res: ServerResponse): OpenRequest;
  /** Sets the common headers of a request opened earlier (by the front, before handing it over). */
  reopen(res: ServerResponse, opened: OpenRequest): void;
  /** Measures and logs the request; `route` is the template that answered, if any. */
  close(opened: OpenRequest, method: string, route: string | undefined, status: number): void;
}

export function createRequestLine(log: Logger, metrics?: RequestObserver): RequestLine {
  // One line writer per (method, route template) seen, from a child logger: pino serialises a
  // child's bindings once, so a request line only formats what differs per request. Only
  // GET/HEAD on matched routes are kept, which bounds the maps at the route count each; keyed
  // by the route string itself, nothing is built per request.
  const writers = { GET: new Map<string, RequestLineWriter>(), HEAD: new Map<string, RequestLineWriter>() };
  const lineWriter = (method: string, route: string | undefined): RequestLineWriter | undefined => {
    if (route === undefined || (method !== 'GET' && method !== 'HEAD')) return undefined;
    const byRoute = writers[method];
    let writer = byRoute.get(route);
    if (writer === undefined) {
      const child = log.child({ method, route });
      writer = requestLineWriter(child) ?? ((reqId, status, ms) => child.info({ reqId, status, ms }));
      byRoute.set(route, writer);
    }
    return writer;
  };

  const reopen = (res: ServerResponse, opened: OpenRequest): void => {
    // node's setHeader directly: koa's ctx.set allocates arrays per call (see routes.ts).
    res.setHeader('X-Request-Id', opened.requestId);
    res.setHeader('X-Content-Type-Options', 'nosniff');
  };

  return {
    open(req, res) {
      const started = process.hrtime.bigint();
      const incoming = req.headers['x-request-id'];
      const opened = { requestId: typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID(), started };
      reopen(res, opened);
      metrics?.started();
      return opened;
    },
    reopen,
    close(opened, method, route, status) {
      const seconds = Number(process.hrtime.bigint() - opened.started) / 1e9;
      metrics?.finished(route, method, status, seconds);
      if (log.isLevelEnabled('info')) {
        // Milliseconds to the microsecond: shorter to format than a full double.
        const ms = Math.round(seconds * 1e6) / 1e3;
        const writer = lineWriter(method, route);
        if (writer) writer(opened.requestId, status, ms);
        else log.info({ method, route: route ?? null, reqId: opened.requestId, status, ms });
      }
    },
  };
}

/**
 * Outermost middleware: opens the request (or takes over one the document front opened and
 * handed over, see `handedOver`), then closes it with its final status and route.
 */
export function requestLog(
  log: Logger,
  metrics?: RequestObserver,
  handedOver: (req: IncomingMessage) => OpenRequest | undefined = () => undefined,
  line: RequestLine = createRequestLine(log, metrics),
): Middleware {
  return async function logRequest(ctx, next) {
    let opened = handedOver(ctx.req);
    if (opened === undefined) opened = line.open(ctx.req, ctx.res);
    else line.reopen(ctx.res, opened);
    ctx.state.requestId = opened.requestId;
    try {
      await next();
    } finally {
      line.close(opened, ctx.method, routeTemplate(ctx), ctx.status);
    }
  };
}
