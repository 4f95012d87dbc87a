import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Document, Representation } from '../catalog/cache';
import type { Coding } from '../catalog/compression';
import type { RequestObserver } from '../metrics/http';
import { createPreferences, type ContentCoding, type Preference } from './content-coding';

const JSON_TYPE = 'application/json; charset=utf-8';
// Every document response varies by Accept-Encoding, identity ones too: a shared cache must
// not hand a stored identity answer to a client that asked for br, nor the reverse.
const VARY = 'Accept-Encoding';
// With a CORS allow list, cors.ts has already said `Vary: Origin`.
const VARY_AFTER_ORIGIN = 'Origin, Accept-Encoding';

export interface DocumentResponderDeps {
  /** The documents' Cache-Control value. */
  cacheControl: string;
  /** Asks for `doc` in `coding`, which the request preferred and the document lacks (DocumentStore.encode). */
  encode: (doc: Document, coding: Coding) => void;
  metrics?: Pick<RequestObserver, 'sent'>;
}

/** Chooses and describes the representation of a document a request gets, for the koa routes and the document front alike. */
export interface DocumentResponder {
  /**
   * Sets the headers of `doc`'s representation for `req` on `res` and returns its body (a
   * latin1 string) to send, or undefined when the client's copy is current (a 304: no
   * Content-Type, Content-Encoding nor body). Content-Length is the caller's.
   */
  respond(req: IncomingMessage, res: ServerResponse, doc: Document): string | undefined;
}

const stored = (doc: Document, coding: ContentCoding): Representation | null | undefined => (coding === 'identity' ? doc : doc[coding]);

/** Matches a strong ETag against If-None-Match (a list, `*`, or weak forms of the same tag). */
function matches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch === etag || ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * The representation the client already holds, if it names one in If-None-Match that it
 * still accepts: a document compressed since the client's last request is not sent again
 * just because a smaller copy now exists.
 */
function current(ifNoneMatch: string, doc: Document, preference: Preference, chosen: Representation): Representation | undefined {
  if (matches(ifNoneMatch, chosen.etag)) return chosen;
  for (const coding of preference) {
    const rep = stored(doc, coding);
    if (rep && rep !== chosen && matches(ifNoneMatch, rep.etag)) return rep;
  }
  return undefined;
}

export function createDocumentResponder(deps: DocumentResponderDeps): DocumentResponder {
  const preferences = createPreferences();
  const { cacheControl, encode, metrics } = deps;

  return {
    respond(req, res, doc) {
      const preference = preferences(req.headers['accept-encoding']);
      // The most preferred coding stored; identity when none is (even if the client refused
      // it: RFC 9110 lets a server send identity rather than 406, and a document is never refused).
      let chosen: Representation = doc;
      let coding: ContentCoding = 'identity';
      for (const wanted of preference) {
        const rep = stored(doc, wanted);
        if (rep) {
          chosen = rep;
          coding = wanted;
          break;
        }
      }
      const best = preference[0];
      if (best !== undefined && best !== coding && best !== 'identity' && doc[best] === undefined) encode(doc, best);

      // node's own header calls: koa's ctx.set/ctx.get build arrays and lower-case copies on
      // every call, a fifth of all a cache hit allocated (sampling heap profile, hot traffic).
      const vary = res.getHeader('Vary');
      res.setHeader('Vary', vary === undefined ? VARY : vary === 'Origin' ? VARY_AFTER_ORIGIN : `${String(vary)}, ${VARY}`);
      const ifNoneMatch = req.headers['if-none-match'];
      const held = ifNoneMatch === undefined || ifNoneMatch === '' ? undefined : current(ifNoneMatch, doc, preference, chosen);
      res.setHeader('ETag', (held ?? chosen).etag);
      res.setHeader('Cache-Control', cacheControl);
      if (held !== undefined) return undefined;
      if (coding !== 'identity') res.setHeader('Content-Encoding', coding);
      res.setHeader('Content-Type', JSON_TYPE);
      if (metrics !== undefined && req.method !== 'HEAD') metrics.sent(coding, chosen.body.length, doc.body.length);
      return chosen.body;
    },
  };
}
