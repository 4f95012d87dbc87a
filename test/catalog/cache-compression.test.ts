import { expect } from 'chai';
import zlib from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  codedEtag,
  createDocumentCache,
  ENTRY_OVERHEAD_BYTES,
  NOT_FOUND,
  REPRESENTATION_OVERHEAD_BYTES,
  type CacheEntry,
  type CompressionOptions,
  type Document,
} from '../../src/catalog/cache';
import { compress, type Coding } from '../../src/catalog/compression';

const BODY = JSON.stringify({ styles: Array.from({ length: 20 }, (_, i) => ({ style_id: i, name: 'Forest Green & Black', original_price: '140.00' })) });

const resolve = async (value: CacheEntry | Promise<CacheEntry>): Promise<Document> => {
  const entry = await value;
  if (entry === NOT_FOUND) throw new Error('not found');
  return entry;
};

/** Real compression, with the calls counted and a gate to hold them while a test acts. */
function compressor(opts: Partial<CompressionOptions> = {}) {
  const calls: Coding[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const options: CompressionOptions = {
    afterRequests: 3,
    maxInFlight: 2,
    maxPerSecond: 1000,
    ...opts,
    compress: async (coding, body) => {
      calls.push(coding);
      await gate;
      return opts.compress ? opts.compress(coding, body) : compress(coding, body);
    },
  };
  return {
    options,
    calls,
    hold: () => void (gate = new Promise((r) => (open = r))),
    release: () => open(),
  };
}

/** Until the cached entry for `key` has settled `coding` (compressed or found no smaller). */
async function settled(cache: ReturnType<typeof createDocumentCache>, key: string, coding: Coding): Promise<Document> {
  for (let i = 0; i < 200; i++) {
    const doc = await resolve(cache.get(key));
    if (doc[coding] !== undefined) return doc;
    await sleep(2);
  }
  throw new Error(`${key} never got ${coding}`);
}

describe('document cache compression (unit)', () => {
  it('when a document is wanted in a coding for the third time, then it is compressed once and served from the cache after', async () => {
    const c = compressor();
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async () => BODY, compression: c.options });
    const doc = await resolve(cache.get('s1'));
    cache.encode(doc, 'br');
    cache.encode(doc, 'br');
    expect(c.calls).to.deep.equal([]);
    cache.encode(doc, 'br');
    // Asked again while it runs: still one compression.
    cache.encode(doc, 'br');
    const done = await settled(cache, 's1', 'br');
    expect(c.calls).to.deep.equal(['br']);
    expect(zlib.brotliDecompressSync(Buffer.from(done.br!.body, 'latin1')).toString()).to.equal(BODY);
    expect(done.br!.etag).to.equal(codedEtag(doc.etag, 'br'));
    expect(done.etag).to.equal(doc.etag);
    expect(done.gzip).to.equal(undefined);
    expect(cache.stats().compressions).to.equal(1);
  });

  it('when a document gains a representation, then the budget is charged for it and its expiry is kept', async () => {
    const c = compressor({ afterRequests: 1 });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 300, notFoundTtlMs: 300, load: async () => BODY, compression: c.options });
    const doc = await resolve(cache.get('s1'));
    const before = cache.stats().bytes;
    expect(before).to.equal(BODY.length + 's1'.length + ENTRY_OVERHEAD_BYTES);
    // Stored half-way through the document's 300 ms: renewing its expiry would keep it to 450 ms.
    c.hold();
    cache.encode(doc, 'gzip');
    await sleep(150);
    c.release();
    const done = await settled(cache, 's1', 'gzip');
    expect(cache.stats().bytes).to.equal(before + done.gzip!.body.length + REPRESENTATION_OVERHEAD_BYTES);
    await sleep(200);
    await resolve(cache.get('s1'));
    expect(cache.stats().misses).to.equal(2);
  });

  it('when compressed bytes are no smaller than identity, then the document stays identity and is not compressed again', async () => {
    const c = compressor({ afterRequests: 1 });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async () => '[]', compression: c.options });
    const doc = await resolve(cache.get('r1'));
    cache.encode(doc, 'br');
    const done = await settled(cache, 'r1', 'br');
    expect(done.br).to.equal(null);
    cache.encode(done, 'br');
    expect(c.calls).to.deep.equal(['br']);
    expect(cache.stats()).to.include({ compressions: 0, bytes: 2 + 2 + ENTRY_OVERHEAD_BYTES });
  });

  it('when the cache is cleared or the document evicted while it is compressed, then the result is dropped', async () => {
    const c = compressor({ afterRequests: 1 });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async (key) => `${BODY}${key}`, compression: c.options });
    const doc = await resolve(cache.get('s1'));
    c.hold();
    cache.encode(doc, 'br');
    cache.clear();
    const reloaded = await resolve(cache.get('s1'));
    c.release();
    await sleep(50);
    expect(c.calls).to.deep.equal(['br']);
    expect((await resolve(cache.get('s1'))).br).to.equal(undefined);
    expect(reloaded.br).to.equal(undefined);
    expect(cache.stats().compressions).to.equal(0);
  });

  it('when the compressions in flight are at their bound, then another document is served as it is and compressed later', async () => {
    const c = compressor({ afterRequests: 1, maxInFlight: 1 });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async (key) => `${BODY}${key}`, compression: c.options });
    const [a, b] = [await resolve(cache.get('s1')), await resolve(cache.get('s2'))];
    c.hold();
    cache.encode(a, 'br');
    cache.encode(b, 'br');
    expect(c.calls).to.deep.equal(['br']);
    c.release();
    await settled(cache, 's1', 'br');
    cache.encode(await resolve(cache.get('s2')), 'br');
    await settled(cache, 's2', 'br');
    expect(c.calls).to.deep.equal(['br', 'br']);
  });

  it('when compression fails, then the document is left as it was, the failure counted, and tried again later', async () => {
    let fail = true;
    const c = compressor({
      afterRequests: 1,
      compress: (coding, body) => (fail ? Promise.reject(new Error('zlib')) : compress(coding, body)),
    });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async () => BODY, compression: c.options });
    const doc = await resolve(cache.get('s1'));
    cache.encode(doc, 'gzip');
    await sleep(20);
    expect(cache.stats()).to.include({ compressionFailures: 1, compressions: 0 });
    expect((await resolve(cache.get('s1'))).gzip).to.equal(undefined);
    fail = false;
    cache.encode(doc, 'gzip');
    expect((await settled(cache, 's1', 'gzip')).gzip).to.not.equal(null);
  });

  it('when the per-second budget is spent, then further documents wait for it to refill', async () => {
    const c = compressor({ afterRequests: 1, maxPerSecond: 2 });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async (key) => `${BODY}${key}`, compression: c.options });
    const docs = [await resolve(cache.get('s1')), await resolve(cache.get('s2')), await resolve(cache.get('s3'))];
    for (const doc of docs) cache.encode(doc, 'gzip');
    // Two tokens at start: the third document is served as it is.
    expect(c.calls).to.deep.equal(['gzip', 'gzip']);
    await settled(cache, 's2', 'gzip');
    cache.encode(await resolve(cache.get('s3')), 'gzip');
    expect(c.calls.length).to.equal(2);
    // Half a second refills one token (2 a second).
    await sleep(550);
    cache.encode(await resolve(cache.get('s3')), 'gzip');
    expect(c.calls.length).to.equal(3);
    await settled(cache, 's3', 'gzip');
  });

  it('when compression is off (0 requests) or not configured, then nothing is compressed', async () => {
    const c = compressor({ afterRequests: 0 });
    const off = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async () => BODY, compression: c.options });
    const none = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async () => BODY });
    for (const cache of [off, none]) {
      const doc = await resolve(cache.get('s1'));
      for (let i = 0; i < 10; i++) cache.encode(doc, 'br');
    }
    await sleep(20);
    expect(c.calls).to.deep.equal([]);
  });

  it('when a listing page gains a representation, then it is still a page that dropping pages drops', async () => {
    const c = compressor({ afterRequests: 1 });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async () => BODY, compression: c.options });
    cache.encode(await resolve(cache.get('l1:5')), 'br');
    await settled(cache, 'l1:5', 'br');
    expect(cache.stats()).to.include({ entries: 1, pages: 1 });
    expect(cache.drop([], () => true)).to.equal(1);
    expect(cache.get('l1:5')).to.be.instanceOf(Promise);
  });
});
