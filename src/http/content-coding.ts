import type { Coding } from '../catalog/compression';

/** A coding a response body may have: a stored compressed one, or none. */
export type ContentCoding = Coding | 'identity';

/** What a request's Accept-Encoding allows, most preferred first; codings it refuses are absent. */
export type Preference = readonly ContentCoding[];

// Ties in q are broken by this order: brotli's bodies are the smallest, identity's the largest.
const ORDER: readonly ContentCoding[] = ['br', 'gzip', 'identity'];
// A qvalue (RFC 9110 §12.4.2): 0 to 1 with at most three decimals.
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
const IDENTITY_ONLY: Preference = ['identity'];

/**
 * Parses an Accept-Encoding value (RFC 9110 §12.5.3) into the codings it accepts, most
 * preferred first: q-values honoured, `q=0` refusing; `*` standing for every coding not
 * named (identity included); `x-gzip` as `gzip`; names case-insensitive. Identity is
 * acceptable unless `identity;q=0`, or `*;q=0` without an `identity` entry, excludes it; not
 * named, it ranks with the least preferred coding the client named (as the `negotiator`
 * package does): a client listing `br;q=0.8, gzip;q=0.7` wants a compressed body. An element
 * whose q is not a qvalue is ignored (it accepts nothing). No header at all means identity
 * only: a client that did not ask for a coding may not decode one.
 */
export function parseAcceptEncoding(header: string | undefined): Preference {
  if (header === undefined) return IDENTITY_ONLY;
  const q: Partial<Record<ContentCoding | '*', number>> = {};
  for (const element of header.split(',')) {
    const [rawName, ...params] = element.split(';');
    let name = rawName!.trim().toLowerCase();
    if (name === '') continue;
    if (name === 'x-gzip') name = 'gzip';
    if (name !== 'br' && name !== 'gzip' && name !== 'identity' && name !== '*') continue;
    let weight = 1;
    for (const param of params) {
      const [key, value] = param.split('=').map((s) => s.trim());
      if (key?.toLowerCase() !== 'q') continue;
      weight = value !== undefined && QVALUE.test(value) ? Number(value) : NaN;
    }
    if (Number.isNaN(weight)) continue;
    // Named twice: the more generous entry counts.
    q[name] = Math.max(q[name] ?? 0, weight);
  }
  const star = q['*'];
  const named = Object.values(q).filter((w) => w > 0);
  const identity = q.identity ?? star ?? Math.min(1, ...named);
  const weightOf = (coding: ContentCoding): number => (coding === 'identity' ? identity : (q[coding] ?? star ?? 0));
  return ORDER.filter((coding) => weightOf(coding) > 0).sort((a, b) => weightOf(b) - weightOf(a));
}

// Clients send a handful of distinct Accept-Encoding values (browsers, HTTP libraries, curl):
// each is parsed once per worker. Bounded in entries and length, so odd headers cannot grow it.
const MEMO_ENTRIES = 256;
const MEMO_HEADER_LENGTH = 256;

/** `parseAcceptEncoding`, remembered per header value. */
export function createPreferences(): (header: string | undefined) => Preference {
  const memo = new Map<string, Preference>();
  return (header) => {
    if (header === undefined) return IDENTITY_ONLY;
    let preference = memo.get(header);
    if (preference !== undefined) return preference;
    preference = parseAcceptEncoding(header);
    if (header.length <= MEMO_HEADER_LENGTH) {
      if (memo.size >= MEMO_ENTRIES) memo.clear();
      memo.set(header, preference);
    }
    return preference;
  };
}
