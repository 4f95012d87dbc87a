import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { countingLoader } from '../support/counting-loader';
import { createDocumentCache, ENTRY_OVERHEAD_BYTES, NOT_FOUND, type CacheEntry, type Document, type Loader } from '../../src/catalog/cache';
import { createDoorkeeper } from '../../src/catalog/doorkeeper';

const tick = (ms = 5): Promise<void> => sleep(ms);
const resolve = async (value: CacheEntry | Promise<CacheEntry>): Promise<CacheEntry> => value;


describe('doorkeeper (unit)', () => {
  it('when a key is recorded, then it is seen from its second time on', () => {
    const door = createDoorkeeper(1000);
    expect(door.seen('s42')).to.equal(false);
    expect(door.seen('s42')).to.equal(true);
    expect(door.seen('s42')).to.equal(true);
    expect(door.seen('p42'), 'another key with the same id').to.equal(false);
  });

  it('when other keys are recorded after it, then a key is remembered for at least `capacity` of them and forgotten after 2 × `capacity`', () => {
    const capacity = 1000;
    const door = createDoorkeeper(capacity);
    door.remember('s1');
    for (let i = 0; i < capacity - 1; i++) door.remember(`p${i}`);
    expect(door.seen('s1'), 'within one filter').to.equal(true);
    const later = createDoorkeeper(capacity);
    later.remember('s1');
    // A key the current filter already (falsely) holds is not recorded again: a few more than 2 × capacity.
    for (let i = 0; i < 2 * capacity + 100; i++) later.remember(`p${i}`);
    expect(later.seen('s1'), 'both filters turned over').to.equal(false);
  });

  it('when a filter is full, then keys never recorded are taken as seen less than 2 % of the time', () => {
    const capacity = 50_000;
    const door = createDoorkeeper(capacity);
    // One filter's worth (the other is empty): the worst case, just before it turns over.
    for (let i = 0; i < capacity; i++) door.remember(`s${i}`);
    let falsePositives = 0;
    const probes = 50_000;
    // Distinct from every recorded key: another prefix, and ids beyond them.
    for (let i = 0; i < probes; i++) if (door.seen(`r${capacity + i}`)) falsePositives++;
    expect(falsePositives / probes).to.be.below(0.02);
    // 16 bits a key: 2 × 128 KiB for 50,000 keys, a power of two of bits.
    expect(door.bytes).to.equal(2 * 2 ** 20 / 8);
  });
});

describe('document cache admission (unit)', () => {
  // 100 kB of budget: a doorkeeper of 97 keys a filter, and about 75 documents of 1 kB.
  const MAX_BYTES = 100_000;
  const BODY = 'x'.repeat(1000);
  const options = (load: Loader, now?: () => number) => ({
    maxBytes: MAX_BYTES,
    ttlMs: 60_000,
    notFoundTtlMs: 1000,
    load,
    admitAfter: 2 as const,
    random: () => 0,
    ...(now && { clock: { now } }),
  });
  type Cache = ReturnType<typeof createDocumentCache>;
  /** Reads new keys `prefix`0, 1, … until one is not kept: the cache is then full. */
  const fill = async (cache: Cache, prefix: string): Promise<void> => {
    const refused = cache.stats().refused;
    for (let i = 0; cache.stats().refused === refused; i++) await resolve(cache.get(`${prefix}${i}`));
  };

  it('when the cache has room, then every document read is kept at once', async () => {
    const cache = createDocumentCache(options(async () => BODY));
    await resolve(cache.get('s1'));
    expect(cache.get('s1')).to.not.be.instanceOf(Promise);
    expect(cache.stats()).to.include({ entries: 1, refused: 0 });
  });

  it('when the cache is full, then a document is read but not kept at its first miss, kept at its second, and a hit from its third request', async () => {
    const load = countingLoader(async () => BODY);
    const cache = createDocumentCache(options(load));
    await fill(cache, 'f');
    const { entries, refused } = cache.stats();
    load.calls.length = 0;
    expect(await resolve(cache.get('s1'))).to.not.equal(NOT_FOUND);
    expect(cache.stats()).to.include({ entries, refused: refused + 1 });
    expect(cache.get('s1'), 'not kept: a miss again').to.be.instanceOf(Promise);
    await tick();
    expect(cache.stats()).to.include({ entries, refused: refused + 1 });
    expect(cache.get('s1'), 'kept at the second read, evicting the oldest').to.not.be.instanceOf(Promise);
    expect(load.calls).to.deep.equal(['s1', 's1']);
  });

  it('when admitAfter is 2, then the doorkeeper is charged to the byte budget: one document fewer fits', async () => {
    const perEntry = BODY.length + 's100'.length + ENTRY_OVERHEAD_BYTES;
    // Room for exactly 60 documents of s100–s199 without the charge.
    const maxBytes = 60 * perEntry + 10;
    const charge = createDoorkeeper(maxBytes / 1024).bytes;
    expect(Math.floor((maxBytes - charge) / perEntry), 'the charge costs a document at this budget').to.equal(59);
    const cache = createDocumentCache({ ...options(async () => BODY), maxBytes });
    for (let i = 100; i < 200; i++) {
      await resolve(cache.get(`s${i}`));
      await resolve(cache.get(`s${i}`));
    }
    expect(cache.stats().entries).to.equal(59);
    expect(cache.stats().bytes).to.be.at.most(maxBytes - charge);
  });

  it('when many callers miss a document at once at its first sight, then they share one read, which counts as one sighting', async () => {
    const load = countingLoader(async (key) => {
      if (key === 's1') await sleep(10);
      return BODY;
    });
    const cache = createDocumentCache(options(load));
    await fill(cache, 'f');
    const { refused } = cache.stats();
    load.calls.length = 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => resolve(cache.get('s1'))));
    expect(new Set(results).size).to.equal(1);
    expect(load.calls).to.have.length(1);
    expect(cache.stats().refused).to.equal(refused + 1);
    await resolve(cache.get('s1'));
    expect(cache.stats().refused).to.equal(refused + 1);
    expect(cache.get('s1')).to.not.be.instanceOf(Promise);
  });

  it('when a document read is not cached, then it is not compressed either; once cached it is', async () => {
    let compressions = 0;
    const cache = createDocumentCache({
      ...options(async () => BODY),
      compression: {
        compress: async (_coding, body) => {
          compressions++;
          return body.subarray(0, 10);
        },
        afterRequests: 1,
        maxInFlight: 4,
        maxPerSecond: 1e6,
      },
    });
    await fill(cache, 'f');
    await tick();
    const before = compressions;
    const refused = (await resolve(cache.get('s1'))) as Document;
    cache.encode(refused, 'br');
    await tick();
    expect(compressions, 'the first read: not cached').to.equal(before);
    const kept = (await resolve(cache.get('s1'))) as Document;
    cache.encode(kept, 'br');
    await tick();
    expect(compressions).to.equal(before + 1);
    expect((cache.get('s1') as Document).br?.body).to.have.length(10);
  });

  it('when an unknown id is asked for, then its 404 is cached at once, full cache or not', async () => {
    const load = countingLoader(async (key) => (key[0] === 'f' ? BODY : undefined));
    const cache = createDocumentCache(options(load));
    await fill(cache, 'f');
    const { refused } = cache.stats();
    load.calls.length = 0;
    expect(await resolve(cache.get('p404'))).to.equal(NOT_FOUND);
    expect(cache.get('p404')).to.equal(NOT_FOUND);
    expect(load.calls).to.have.length(1);
    expect(cache.stats().refused).to.equal(refused);
  });

  it('when a cached document expires, is dropped or is cleared, then its next read keeps it again at once, the cache full', async () => {
    // Not 0: lru-cache takes a start time of 0 for "no TTL"; it reads the clock once per tick.
    let now = 1000;
    const load = countingLoader(async () => BODY);
    const cache = createDocumentCache(options(load, () => now));
    await fill(cache, 'f');
    for (const key of ['s1', 's2', 's3']) {
      await resolve(cache.get(key));
      await resolve(cache.get(key));
      expect(cache.get(key), `${key} kept at its second read`).to.not.be.instanceOf(Promise);
    }
    // One-off reads until the doorkeeper (97 keys a filter) has forgotten s1–s3: what keeps
    // them below is that they were cached. A few one-offs pass as false positives and evict
    // the oldest documents (the f's: s1–s3 were read last).
    const oneOffs = 2 * Math.floor(MAX_BYTES / 1024) + 100;
    const before = cache.stats().refused;
    for (let i = 0; i < oneOffs; i++) await resolve(cache.get(`r${i}`));
    expect(cache.stats().refused - before).to.be.above(0.97 * oneOffs);
    const fresh = createDocumentCache(options(load, () => now));
    await fill(fresh, 'f');
    const freshRefused = fresh.stats().refused;
    await resolve(fresh.get('s1'));
    expect(fresh.stats().refused, 'a doorkeeper that never saw s1 refuses it').to.equal(freshRefused + 1);

    now += 61_000;
    await tick();
    expect(cache.get('s1'), 'expired').to.be.instanceOf(Promise);
    await tick();
    expect(cache.get('s1'), 'kept again at its first read after expiry').to.not.be.instanceOf(Promise);

    // The dropped document's room is taken first, so only its having been cached can keep it.
    expect(cache.drop(['s2'])).to.equal(1);
    await fill(cache, 'g');
    const refused = cache.stats().refused;
    await resolve(cache.get('s2'));
    expect(cache.get('s2'), 'kept again at its first read after a drop').to.not.be.instanceOf(Promise);

    // s1 and s2 were kept again since everything expired (what clear() remembers is what is cached and current).
    cache.clear();
    await fill(cache, 'h');
    await resolve(cache.get('s1'));
    expect(cache.get('s1'), 'kept again at its first read after a clear').to.not.be.instanceOf(Promise);
    expect(cache.stats().refused, 'no read of s1 or s2 refused (one h, to fill)').to.equal(refused + 1);
  });
});
