import Koa from 'koa';
import type { Logger } from 'pino';
import type { DocumentStore } from './catalog/documents';
import { AppError, errorHandler } from './http/errors';
import { limitUrl } from './http/limits';
import { requestLog } from './http/request-log';
import { createRouter } from './http/routes';
import type { RequestObserver } from './metrics/http';

export interface AppDeps {
  log: Logger;
  documents: DocumentStore;
  checkReady: () => Promise<void>;
  httpMaxAgeSeconds: number;
  /** Receives every request's route, method, status and duration (Prometheus metrics). */
  metrics?: RequestObserver;
}

/** Wires the HTTP application. Never listens and never reads the environment. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // Errors are logged once by errorHandler; koa's own printing would log them twice.
  app.silent = true;
  const router = createRouter(deps);
  app.use(requestLog(deps.log, deps.metrics));
  app.use(errorHandler(deps.log));
  app.use(limitUrl());
  app.use(router.routes());
  app.use(() => {
    throw new AppError(404, 'Not found');
  });
  return app;
}
