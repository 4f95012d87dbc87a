import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { NOT_FOUND, type CacheEntry } from '../catalog/cache';
import type { DocumentStore } from '../catalog/documents';
import type { Cors } from './cors';
import type { OpenRequest, RequestLine } from './request-log';
import type { DocumentResponder } from './document-response';
import { documentRequest, type DocumentRequest } from './routes';

/** A request the front opened and handed to koa, with the read that failed, if one did. */
interface Handoff {
  opened: OpenRequest;
  failed?: { error: unknown };
}

/** Requests the front hands to koa: koa's request log and routes take them over from here. */
export interface Handoffs {
  give(req: IncomingMessage, handoff: Handoff): void;
  /** The request's id and start, when the front opened it (koa then neither counts nor ids it again). */
  opened(req: IncomingMessage): OpenRequest | undefined;
  /** The front's read of this request's document, when it failed: koa answers that error. */
  failedRead(req: IncomingMessage): { error: unknown } | undefined;
}

export function createHandoffs(): Handoffs {
  const handed = new WeakMap<IncomingMessage, Handoff>();
  return {
    give: (req, handoff) => void handed.set(req, handoff),
    opened: (req) => handed.get(req)?.opened,
    failedRead: (req) => handed.get(req)?.failed,
  };
}

export interface DocumentFrontDeps {
  documents: DocumentStore;
  /** The koa routes' own (src/http/document-response.ts). */
  responder: DocumentResponder;
  line: RequestLine;
  cors: Pick<Cors, 'headers'>;
  handoffs: Handoffs;
}

/**
 * Answers the requests that are most of the traffic, GET and HEAD of a document that exists,
 * with node's own response, in front of koa: the same headers, log line and metrics as koa's
 * middleware chain gives them (test/http/document-front.test.ts compares the two over random
 * requests), without koa's context, middleware dispatch and response plumbing, which cost a
 * cache hit about a third of its CPU (README, Performance). Everything else goes to `koa`
 * untouched; an unknown id or a failed read is handed over after the read, so the error is
 * answered, logged and counted by koa's one error handler, and nothing is read twice.
 */
export function createDocumentFront(deps: DocumentFrontDeps, koa: RequestListener): RequestListener {
  const { documents, responder, line, cors, handoffs } = deps;

  const answer = (req: IncomingMessage, res: ServerResponse, opened: OpenRequest, asked: DocumentRequest, entry: CacheEntry): void => {
    if (entry === NOT_FOUND) {
      handoffs.give(req, { opened });
      return void koa(req, res);
    }
    cors.headers(req, res);
    const body = responder.respond(req, res, entry);
    const status = body === undefined ? 304 : 200;
    res.statusCode = status;
    // As koa: the request line is written when the answer is ready, before it is sent.
    line.close(opened, req.method!, asked.template, status);
    if (body === undefined) return void res.end();
    res.setHeader('Content-Length', body.length);
    // The cached string itself, one byte a character: node writes the header block and the
    // body with one write(2) from one copy, where a Buffer body costs a copy, an external
    // allocation and a two-part writev: 8–19 % more hot styles requests a second
    // (interleaved pairs, README Performance). What a slow socket cannot take is copied by node.
    res.end(body, 'latin1');
  };

  const fail = (req: IncomingMessage, res: ServerResponse, opened: OpenRequest, error: unknown): void => {
    handoffs.give(req, { opened, failed: { error } });
    void koa(req, res);
  };

  return function documentFront(req, res) {
    const method = req.method;
    const url = req.url;
    // A query string, an absolute-form target or another method: koa's routes decide.
    if ((method !== 'GET' && method !== 'HEAD') || url === undefined || url.includes('?')) return void koa(req, res);
    const asked = documentRequest(url);
    if (asked === undefined) return void koa(req, res);
    const opened = line.open(req, res);
    let found: CacheEntry | Promise<CacheEntry>;
    try {
      found = documents.product(asked.kind, asked.id);
    } catch (error) {
      return fail(req, res, opened, error);
    }
    if (!(found instanceof Promise)) return answer(req, res, opened, asked, found);
    found.then(
      (entry) => answer(req, res, opened, asked, entry),
      (error: unknown) => fail(req, res, opened, error),
    );
  };
}
