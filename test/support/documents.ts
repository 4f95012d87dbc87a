import { codedEtag, type Document } from '../../src/catalog/cache';
import { compressSync, type Coding } from '../../src/catalog/compression';

/**
 * A cached document as the cache builds one, for doubles of the document store: `codings`
 * lists the compressed representations it already has (real bytes, decodable), or `null`
 * for a coding found no smaller than identity.
 */
export function testDocument(key: string, body: string, etag: string, codings: Partial<Record<Coding, true | null>> = {}): Document {
  const doc: { -readonly [K in keyof Document]: Document[K] } = { key, body, etag, br: undefined, gzip: undefined, wants: 0, compressing: false, refreshAt: Infinity };
  for (const coding of ['br', 'gzip'] as const) {
    const has = codings[coding];
    if (has === null) doc[coding] = null;
    else if (has) doc[coding] = { body: compressSync(coding, Buffer.from(body, 'latin1')).toString('latin1'), etag: codedEtag(etag, coding) };
  }
  return doc;
}
