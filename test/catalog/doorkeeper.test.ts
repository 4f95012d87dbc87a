import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDocumentCache, ENTRY_OVERHEAD_BYTES, NOT_FOUND, type CacheEntry, type Document, type Loader } from '../../src/catalog/cache';
import { createDoorkeeper } from '../../src/catalog/doorkeeper';

const tick = (ms = 5): Promise<void> => sleep(ms);
const resolve = async (value: CacheEntry | Promise<CacheEntry>): Promise<CacheEntry> => value;

function countingLoader(fn: Loader): Loader & { calls: string[] } {
  const calls: string[] = [];
  const load = (async (key: string) => {
    calls.push(key);
    return fn(key);
  }) as Loader & { calls: string[] };
  load.calls = calls;
  return load;
}

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
  const options = (load: Loader, now?: () => number) => ({
    maxBytes: 1e6,
    ttlMs: 60_000,
    notFoundTtlMs: 1000,
    load,
    admitAfter: 2 as const,
    random: () => 0,
    ...(now && { clock: { now } }),
  });

  it('when admitAfter is 2, then a document is read but not kept at its first miss, kept at its second, and a hit from its third request', async () => {
    const load = countingLoader(async () => '{"id":1}');
    const cache = createDocumentCache(options(load));
    const first = await resolve(cache.get('s1'));
    expect(first).to.not.equal(NOT_FOUND);
    expect(cache.stats()).to.include({ entries: 0, refused: 1, misses: 1 });
    expect(cache.get('s1'), 'not kept: a miss again').to.be.instanceOf(Promise);
    await tick();
    expect(cache.stats()).to.include({ entries: 1, refused: 1, misses: 2 });
    expect(cache.get('s1'), 'kept at the second read').to.not.be.instanceOf(Promise);
    expect(load.calls).to.deep.equal(['s1', 's1']);
  });

  it('when many callers miss a document at once at its first sight, then they share one read, which counts as one sighting', async () => {
    const load = countingLoader(async () => {
      await sleep(10);
      return '{"id":1}';
    });
    const cache = createDocumentCache(options(load));
    const results = await Promise.all(Array.from({ length: 20 }, () => resolve(cache.get('s1'))));
    expect(new Set(results).size).to.equal(1);
    expect(load.calls).to.have.length(1);
    expect(cache.stats()).to.include({ entries: 0, refused: 1 });
    await resolve(cache.get('s1'));
    expect(cache.stats()).to.include({ entries: 1, refused: 1 });
  });

  it('when a document read is not cached, then it is not compressed either; once cached it is', async () => {
    let compressions = 0;
    const cache = createDocumentCache({
      ...options(async () => '{"id":1}'.repeat(50)),
      compression: {
        compress: async (_coding, body) => {
          compressions++;
          return body.subarray(0, 10);
        },
        afterRequests: 1,
        maxInFlight: 4,
        maxPerSecond: 1000,
      },
    });
    const refused = (await resolve(cache.get('s1'))) as Document;
    cache.encode(refused, 'br');
    await tick();
    expect(compressions, 'the first read: not cached').to.equal(0);
    const kept = (await resolve(cache.get('s1'))) as Document;
    cache.encode(kept, 'br');
    await tick();
    expect(compressions).to.equal(1);
    expect((cache.get('s1') as Document).br?.body).to.have.length(10);
  });

  it('when an unknown id is asked for, then its 404 is cached at once', async () => {
    const load = countingLoader(async () => undefined);
    const cache = createDocumentCache(options(load));
    expect(await resolve(cache.get('p404'))).to.equal(NOT_FOUND);
    expect(cache.get('p404')).to.equal(NOT_FOUND);
    expect(load.calls).to.have.length(1);
    expect(cache.stats().refused).to.equal(0);
  });

  it('when a cached document expires, is dropped or is cleared, then its next read caches it again at once', async () => {
    // Not 0: lru-cache takes a start time of 0 for "no TTL"; it reads the clock once per tick.
    let now = 1000;
    const load = countingLoader(async (key) => `{"key":"${key}"}`);
    const cache = createDocumentCache(options(load, () => now));
    for (const key of ['s1', 's2', 's3']) {
      await resolve(cache.get(key));
      await resolve(cache.get(key));
    }
    expect(cache.stats()).to.include({ entries: 3, refused: 3 });
    // One-off reads until the doorkeeper (1e6 / 1024 keys a filter) has forgotten s1–s3: what
    // admits them below is that they were cached.
    const oneOffs = 2 * Math.floor(1e6 / 1024) + 100;
    for (let i = 0; i < oneOffs; i++) await resolve(cache.get(`r${i}`));
    // Nearly all refused: a few pass as the filters' false positives (deterministic: fixed hashes).
    const afterOneOffs = cache.stats();
    expect(afterOneOffs.entries - 3 + afterOneOffs.refused - 3).to.equal(oneOffs);
    expect(afterOneOffs.refused - 3).to.be.above(0.97 * oneOffs);
    const forgotten = createDocumentCache(options(load, () => now));
    await resolve(forgotten.get('s1'));
    expect(forgotten.stats().refused, 'a fresh doorkeeper refuses s1 too').to.equal(1);

    now += 61_000;
    await tick();
    expect(cache.get('s1'), 'expired').to.be.instanceOf(Promise);
    await tick();
    expect(cache.get('s1'), 'cached again at its first read after expiry').to.not.be.instanceOf(Promise);

    expect(cache.drop(['s2'])).to.equal(1);
    await resolve(cache.get('s2'));
    expect(cache.get('s2'), 'cached again at its first read after a drop').to.not.be.instanceOf(Promise);

    cache.clear();
    await resolve(cache.get('s1'));
    expect(cache.get('s1'), 'cached again at its first read after a clear').to.not.be.instanceOf(Promise);
    expect(cache.stats().refused, 'no read refused since the one-offs').to.equal(afterOneOffs.refused);
  });

  it('when admitAfter is 2, then the doorkeeper is charged to the byte budget', async () => {
    const body = 'x'.repeat(1000);
    const maxBytes = 100_000;
    const cache = createDocumentCache({ ...options(async () => body), maxBytes });
    const door = createDoorkeeper(maxBytes / 1024);
    for (let i = 0; i < 200; i++) {
      await resolve(cache.get(`s${i}`));
      await resolve(cache.get(`s${i}`));
    }
    const perEntry = body.length + 's100'.length + ENTRY_OVERHEAD_BYTES;
    expect(cache.stats().bytes).to.be.at.most(maxBytes - door.bytes);
    expect(cache.stats().entries).to.equal(Math.floor((maxBytes - door.bytes) / perEntry));
  });
});
