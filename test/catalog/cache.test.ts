import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  createDocumentCache,
  ENTRY_OVERHEAD_BYTES,
  MAX_REFRESHES_IN_FLIGHT,
  NOT_FOUND,
  type CacheEntry,
} from '../../src/catalog/cache';
import { setTimeout as sleep } from 'node:timers/promises';
import { countingLoader } from '../support/counting-loader';

const tick = (ms = 5): Promise<void> => sleep(ms);

const resolve = async (value: CacheEntry | Promise<CacheEntry>): Promise<CacheEntry> => value;

describe('document cache (unit)', () => {
  it('when documents exceed the byte budget, then old ones are evicted and the budget holds', async () => {
    const body = 'x'.repeat(10_000);
    const cache = createDocumentCache({
      maxBytes: 100_000,
      ttlMs: 60_000,
      notFoundTtlMs: 1000,
      load: async () => body,
    });
    for (let i = 0; i < 100; i++) await resolve(cache.get(`p${i}`));
    const stats = cache.stats();
    expect(stats.bytes).to.be.at.most(100_000);
    expect(stats.entries).to.equal(Math.floor(100_000 / (10_000 + 3 + ENTRY_OVERHEAD_BYTES)));
    // The survivors are p91–p99: a body byte and a key character each cost one byte.
    expect(stats.bytes).to.equal(stats.entries * (10_000 + 'p99'.length + ENTRY_OVERHEAD_BYTES));
    expect(stats.evictions).to.equal(100 - stats.entries);
    // The most recent keys survive, the oldest are gone.
    expect(cache.get('p99')).to.not.be.instanceOf(Promise);
    expect(cache.get('p0')).to.be.instanceOf(Promise);
  });

  it('when many callers miss the same key at once, then the loader runs once and all get the same document', async () => {
    const load = countingLoader(async () => {
      await tick(20);
      return '{"id":1}';
    });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load });
    const results = await Promise.all(Array.from({ length: 50 }, () => resolve(cache.get('p1'))));
    expect(load.calls).to.deep.equal(['p1']);
    expect(new Set(results).size).to.equal(1);
    expect(cache.stats()).to.include({ misses: 50, hits: 0 });
    expect(cache.get('p1')).to.equal(results[0]);
    expect(cache.stats().hits).to.equal(1);
  });

  it('when a document is cached, then its ETag is the quoted base64url SHA-1 of its UTF-8 bytes', async () => {
    // A body arrives as its bytes one character per byte: "Café ☕" is 10 bytes.
    const bytes = Buffer.from('{"name":"Café ☕"}');
    const body = bytes.toString('latin1');
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async () => body });
    const entry = await resolve(cache.get('p2'));
    if (entry === NOT_FOUND) throw new Error('expected a document');
    expect(entry.etag).to.equal(`"${createHash('sha1').update(bytes).digest('base64url')}"`);
    expect(Buffer.from(entry.body, 'latin1').equals(bytes)).to.equal(true);
    expect(cache.stats().bytes).to.equal(bytes.length + 'p2'.length + ENTRY_OVERHEAD_BYTES);
  });

  it('when an id is unknown, then NOT_FOUND is cached for the short TTL only', async () => {
    const load = countingLoader(async () => undefined);
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 50, load });
    expect(await resolve(cache.get('p9'))).to.equal(NOT_FOUND);
    for (let i = 0; i < 100; i++) expect(cache.get('p9')).to.equal(NOT_FOUND);
    expect(load.calls).to.have.length(1);
    await tick(80);
    expect(await resolve(cache.get('p9'))).to.equal(NOT_FOUND);
    expect(load.calls).to.have.length(2);
  });

  it('when the loader fails, then every waiting caller gets the error and nothing is cached', async () => {
    let fail = true;
    const load = countingLoader(async () => {
      await tick();
      if (fail) throw new Error('database down');
      return '[]';
    });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load });
    const outcomes = await Promise.allSettled([resolve(cache.get('r1')), resolve(cache.get('r1'))]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected']);
    fail = false;
    expect(await resolve(cache.get('r1'))).to.not.equal(NOT_FOUND);
    expect(load.calls).to.have.length(2);
  });

  it('when the cache is cleared while a load is in flight, then the caller still gets it but it is not kept', async () => {
    let version = 1;
    const load = countingLoader(async () => {
      const v = version;
      await tick(20);
      return `{"v":${v}}`;
    });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load });
    const inFlight = resolve(cache.get('p1'));
    cache.clear();
    version = 2;
    const old = await inFlight;
    expect(old !== NOT_FOUND && old.body.toString()).to.equal('{"v":1}');
    await tick(5);
    const fresh = await resolve(cache.get('p1'));
    expect(fresh !== NOT_FOUND && fresh.body.toString()).to.equal('{"v":2}');
    expect(load.calls).to.have.length(2);
  });

  it('when keys are dropped, then only they (and the pages named) are read again, and their loads in flight are not kept', async () => {
    let version = 1;
    const load = countingLoader(async (key) => {
      const v = version;
      await tick(20);
      return `{"key":"${key}","v":${v}}`;
    });
    const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load });
    for (const key of ['p1', 'p2', 's1', 'l1:5', 'l2:5']) await resolve(cache.get(key));
    const inFlight = resolve(cache.get('r1'));
    expect(cache.drop(['p1', 'r1', 'p9'])).to.equal(1);
    version = 2;
    const old = await inFlight;
    expect(old !== NOT_FOUND && old.body).to.equal('{"key":"r1","v":1}');
    // Kept: p2, s1 and both pages answer synchronously, from memory.
    for (const key of ['p2', 's1', 'l1:5', 'l2:5']) expect(cache.get(key), key).to.not.be.instanceOf(Promise);
    for (const key of ['p1', 'r1']) {
      const fresh = await resolve(cache.get(key));
      expect(fresh !== NOT_FOUND && fresh.body, key).to.equal(`{"key":"${key}","v":2}`);
    }
    // Only the pages the predicate names.
    expect(cache.drop([], (key) => key === 'l2:5')).to.equal(1);
    expect(cache.get('l1:5')).to.not.be.instanceOf(Promise);
    expect(cache.drop([], () => true)).to.equal(1);
    expect(cache.get('l1:5')).to.be.instanceOf(Promise);
    expect(cache.get('p2')).to.not.be.instanceOf(Promise);
  });

  it('when pages are evicted or expire, then dropping pages drops exactly the cached ones and forgets them', async () => {
    // Not 0: lru-cache takes a start time of 0 for "no TTL".
    let now = 1000;
    const body = 'x'.repeat(1000);
    const entry = 1000 + 'l10:5'.length + ENTRY_OVERHEAD_BYTES;
    const cache = createDocumentCache({
      maxBytes: 20 * entry,
      ttlMs: 60_000,
      notFoundTtlMs: 1000,
      load: async () => body,
      clock: { now: () => now },
    });
    for (let i = 10; i < 50; i++) await resolve(cache.get(`l${i}:5`));
    expect(cache.stats()).to.include({ entries: 20, pages: 20 });
    // Documents evict the oldest pages (l30–l34); an evicted page leaves the index.
    for (let i = 10; i < 15; i++) await resolve(cache.get(`p${i}xx`));
    expect(cache.stats()).to.include({ entries: 20, pages: 15 });
    // Expired (lru-cache reads the clock once per tick): removed when asked for and loaded as a new entry.
    now += 61_000;
    await tick();
    const reloaded = cache.get('l49:5');
    expect(reloaded).to.be.instanceOf(Promise);
    await resolve(reloaded);
    expect(cache.stats()).to.include({ entries: 20, pages: 15 });
    expect(cache.drop([], () => true)).to.equal(15);
    expect(cache.stats()).to.include({ entries: 5, pages: 0 });
  });

  describe('refresh ahead of expiry', () => {
    // Not 0: lru-cache takes a start time of 0 for "no TTL". It reads the clock once per tick.
    const at = (): { now: number; clock: { now: () => number } } => {
      const t = { now: 1000, clock: { now: () => t.now } };
      return t;
    };

    it('when a document is asked for in the last tenth of its lifetime, then it is read again in the background, served from the cache meanwhile, and lives a lifetime more', async () => {
      const t = at();
      const load = countingLoader(async () => '{"id":1}');
      const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load, clock: t.clock, random: () => 0 });
      const first = await resolve(cache.get('p1'));
      t.now += 30_000;
      await tick();
      expect(cache.get('p1'), 'half way: a hit, no read').to.equal(first);
      expect(load.calls).to.have.length(1);
      t.now += 25_000;
      await tick();
      expect(cache.get('p1'), 'in the last tenth: still the cached entry').to.equal(first);
      expect(load.calls).to.have.length(2);
      expect(cache.get('p1'), 'one refresh at a time').to.equal(first);
      expect(load.calls).to.have.length(2);
      await tick();
      // Past the first lifetime: the same bytes renewed the same entry.
      t.now += 10_000;
      await tick();
      expect(cache.get('p1')).to.equal(first);
      expect(cache.stats()).to.include({ refreshes: 1, misses: 1, hits: 4 });
    });

    it('when the refresh reads other bytes, then they replace the cached document', async () => {
      const t = at();
      let version = 1;
      const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 1000, load: async () => `{"v":${version}}`, clock: t.clock, random: () => 0 });
      await resolve(cache.get('p1'));
      version = 2;
      t.now += 55_000;
      await tick();
      expect((cache.get('p1') as { body: string }).body).to.equal('{"v":1}');
      await tick();
      expect((cache.get('p1') as { body: string }).body).to.equal('{"v":2}');
    });

    it('when refreshes are in flight at the bound, then further hits start none, and a cached 404 is never refreshed', async () => {
      const t = at();
      const load = countingLoader(async (key) => {
        await tick(30);
        return key === 'p404' ? undefined : '{}';
      });
      const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 60_000, notFoundTtlMs: 60_000, load, clock: t.clock, random: () => 0 });
      const keys = Array.from({ length: MAX_REFRESHES_IN_FLIGHT + 2 }, (_, i) => `p${i}`);
      await Promise.all([...keys, 'p404'].map((k) => resolve(cache.get(k))));
      t.now += 55_000;
      await tick();
      for (const k of [...keys, 'p404']) expect(cache.get(k)).to.not.be.instanceOf(Promise);
      expect(cache.stats().refreshes).to.equal(MAX_REFRESHES_IN_FLIGHT);
      await tick(60);
      expect(cache.get('p404')).to.equal(NOT_FOUND);
      expect(load.calls.filter((k) => k === 'p404')).to.have.length(1);
    });

    it('when documents are loaded together, then their lifetimes spread over the last fifth of the TTL', async () => {
      const t = at();
      const draws = [0, 0.5, 0.999];
      let n = 0;
      const cache = createDocumentCache({ maxBytes: 1e6, ttlMs: 100_000, notFoundTtlMs: 1000, load: async () => '{}', clock: t.clock, random: () => draws[n++ % 3]! });
      for (const k of ['p0', 'p1', 'p2']) await resolve(cache.get(k));
      // Lifetimes 100 s, 90 s and 80.02 s: at 85 s only p2 has expired (p1 is being refreshed, still served).
      t.now += 85_000;
      await tick();
      const missed = ['p0', 'p1', 'p2'].filter((k) => cache.get(k) instanceof Promise);
      expect(missed).to.deep.equal(['p2']);
    });
  });
});
