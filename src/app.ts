import Koa from 'koa';
import type { Logger } from 'pino';
import type { DocumentStore } from './catalog/documents';
import type { CorsOrigins } from './config';
import { createCors } from './http/cors';
import { errorHandler } from './http/errors';
import { requestLog } from './http/request-log';
import { createRoutes } from './http/routes';
import type { RequestObserver } from './metrics/http';

export interface AppDeps {
  log: Logger;
  documents: DocumentStore;
  checkReady: () => Promise<void>;
  httpMaxAgeSeconds: number;
  /** Origins whose pages may call from the browser (Config.corsAllowOrigins). */
  corsAllowOrigins: CorsOrigins;
  /** Receives every request's route, method, status and duration (Prometheus metrics). */
  metrics?: RequestObserver;
}

/** Wires the HTTP application. Never listens and never reads the environment. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // Errors are logged once by errorHandler; koa's own printing would log them twice.
  app.silent = true;
  const cors = createCors(deps.corsAllowOrigins);
  const { documentFastPath, router, unanswered } = createRoutes({ ...deps, cors });
  app.use(requestLog(deps.log, deps.metrics));
  // Outside the error handler, so every answer carries the CORS headers, errors included.
  app.use(cors.middleware);
  app.use(errorHandler(deps.log));
  app.use(documentFastPath);
  app.use(router.routes());
  app.use(unanswered);
  return app;
}
