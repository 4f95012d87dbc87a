import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { CatalogOverloadedError } from '../catalog/errors';
import { isConnectionFailure } from '../postgres/errors';

/** Longest request target accepted, in bytes: far above any contract URL (~40 bytes). */
const MAX_URL_BYTES = 2048;

/**
 * The service's one error type. `status` < 500: `message` is for the client.
 * `status` >= 500: the client gets a generic message and the cause is only logged.
 */
export class AppError extends Error {
  /** The response body, `{"error": message}`, serialised once: shared instances answer floods. */
  readonly body: string;
  /**
   * A 5xx the service answers on purpose (a miss shed at the read bound): recorded by the
   * request line only, not logged as a failure with its stack.
   */
  readonly expected: boolean;

  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown; expected?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.body = JSON.stringify({ error: message });
    this.expected = options?.expected ?? false;
  }
}

// A miss shed while the catalog's reads are at their bound, tens of thousands a second in an
// overload: one instance, not a new Error and stack each, and not logged as a failure (the
// request line records the 503).
const OVERLOADED = new AppError(503, 'Service overloaded, retry shortly', { 'Retry-After': '1' }, { expected: true });

/** Converts any error into the status and client-safe message of the contract. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof CatalogOverloadedError) return OVERLOADED;
  if (isConnectionFailure(err)) {
    return new AppError(503, 'Service temporarily unavailable', { 'Retry-After': '1' }, { cause: err });
  }
  if (err instanceof URIError) return new AppError(400, 'Malformed URL');
  const status = (err as { status?: unknown }).status;
  // Errors raised by koa itself for bad requests (e.g. a malformed header) carry a 4xx status.
  if (typeof status === 'number' && status >= 400 && status < 500) return new AppError(status, 'Bad request');
  return new AppError(500, 'Internal server error', {}, { cause: err });
}

/**
 * The one error middleware: every failure becomes `{"error": "..."}` with the right status;
 * 5xx causes are logged here, once, with the request id, and never sent to the client
 * (expected ones, load shed on purpose, are in the request line only).
 */
export function errorHandler(log: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      // Checked here rather than in a middleware of its own: one fewer async step per request.
      if (ctx.url.length > MAX_URL_BYTES) throw new AppError(414, `URL longer than ${MAX_URL_BYTES} bytes`);
      await next();
    } catch (caught) {
      const err = toAppError(caught);
      if (err.status >= 500 && !err.expected) {
        log.error({ reqId: ctx.state.requestId, err: err.cause ?? err, status: err.status }, 'request failed');
      }
      ctx.status = err.status;
      // node's setHeader, as on the document path: 404s of unknown ids come in floods too.
      const res = ctx.res;
      for (const name in err.headers) res.setHeader(name, err.headers[name]!);
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      ctx.body = err.body;
    }
  };
}
