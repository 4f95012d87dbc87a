import type { RequestListener } from 'node:http';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { DocumentStore } from './catalog/documents';
import type { CorsOrigins } from './config';
import { createCors } from './http/cors';
import { createDocumentFront, createHandoffs } from './http/document-front';
import { createDocumentResponder } from './http/document-response';
import { errorHandler } from './http/errors';
import { createRequestLine, requestLog } from './http/request-log';
import { createRoutes, documentCacheControl } from './http/routes';
import type { RequestObserver } from './metrics/http';

export interface AppDeps {
  log: Logger;
  documents: DocumentStore;
  checkReady: () => Promise<void>;
  /** The running build (src/version.ts), named by /healthz and /readyz. */
  version: string;
  httpMaxAgeSeconds: number;
  /** Origins whose pages may call from the browser (Config.corsAllowOrigins). */
  corsAllowOrigins: CorsOrigins;
  /** Receives every request's route, method, status and duration (Prometheus metrics). */
  metrics?: RequestObserver;
}

type Handler = ReturnType<Koa['callback']>;

/**
 * Wires the HTTP application. Never listens and never reads the environment. Its `callback()`
 * is koa's behind the document front (src/http/document-front.ts), so whoever serves it, a
 * worker or a test, serves what production serves.
 */
export function createApp(deps: AppDeps): Koa {
  const cors = createCors(deps.corsAllowOrigins);
  const line = createRequestLine(deps.log, deps.metrics);
  const handoffs = createHandoffs();
  const responder = createDocumentResponder({
    cacheControl: documentCacheControl(deps.httpMaxAgeSeconds),
    encode: deps.documents.encode,
    metrics: deps.metrics,
  });
  const { documentFastPath, router, unanswered } = createRoutes({ ...deps, responder, cors, failedRead: handoffs.failedRead });

  const app = new (class extends Koa {
    override callback(): Handler {
      const front = createDocumentFront(
        { documents: deps.documents, responder, line, cors, handoffs },
        super.callback() as RequestListener,
      );
      // The service speaks HTTP/1.1 only (src/http/server.ts): the front takes node's http types.
      return front as Handler;
    }
  })();
  // Errors are logged once by errorHandler; koa's own printing would log them twice.
  app.silent = true;
  app.use(requestLog(deps.log, deps.metrics, handoffs.opened, line));
  // Outside the error handler, so every answer carries the CORS headers, errors included.
  app.use(cors.middleware);
  app.use(errorHandler(deps.log));
  app.use(documentFastPath);
  app.use(router.routes());
  app.use(unanswered);
  return app;
}
