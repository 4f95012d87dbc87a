import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Coding } from './compression';
import { createDoorkeeper } from './doorkeeper';

/** A response body as sent on the wire, with its strong validator. */
export interface Representation {
  /** The body's bytes, one character per byte (latin1): its length is its size on the wire. */
  readonly body: string;
  /** Strong ETag (quoted): each representation of a document has its own. */
  readonly etag: string;
}

/**
 * A document as cached: its identity representation, and its compressed ones once it has
 * proven hot (`encode`). `null` for a coding: compressed it was no smaller, identity is sent.
 */
export interface Document extends Representation {
  readonly key: string;
  /** `undefined` until compressed (a coding that has not been tried). */
  readonly br: Representation | null | undefined;
  readonly gzip: Representation | null | undefined;
  /** Requests that wanted a coding this document does not have yet (the cache's bookkeeping). */
  wants: number;
  /** A compression of this document is running. */
  compressing: boolean;
  /** Clock time (ms) from which a hit reads the document again in the background (REFRESH_AHEAD_SHARE). */
  refreshAt: number;
}

/** Cached answer "this id is not in the catalog": stored in the LRU as it is. */
export const NOT_FOUND: unique symbol = Symbol('not found');
export type CacheEntry = Document | typeof NOT_FOUND;

/** Loads one key from the database: the body bytes (a latin1 string), or `undefined` when there is no such document. */
export type Loader = (key: string) => Promise<string | undefined>;

/** How documents get their compressed representations: lazily, once hot, off the event loop. */
export interface CompressionOptions {
  /** Compresses identity bytes (src/catalog/compression.ts `compress`, on the thread pool). */
  compress: (coding: Coding, body: Buffer) => Promise<Buffer>;
  /** A document is compressed into a coding at its Nth request wanting it (the miss counts); 0: never. */
  afterRequests: number;
  /** Most compressions running at once in this cache; a request finding them all busy is served as it is. */
  maxInFlight: number;
  /**
   * Most compressions started per second (a token bucket of that size, refilled evenly):
   * bounds the CPU compression can take from cold traffic, whose documents rarely come back.
   * A request finding the budget spent is served as it is; the document is compressed at a later one.
   */
  maxPerSecond: number;
}

export interface CacheOptions {
  /** Byte budget for bodies plus per-entry bookkeeping. */
  maxBytes: number;
  /** Lifetime of a document, in ms. */
  ttlMs: number;
  /** Lifetime of a NOT_FOUND entry, in ms. */
  notFoundTtlMs: number;
  load: Loader;
  compression?: CompressionOptions;
  /** Milliseconds for TTLs and the compression budget; default `performance`. Tests pass a hand-moved one. */
  clock?: Clock;
  /** Uniform in [0, 1), for each document's lifetime (TTL_JITTER_SHARE); default `Math.random`. */
  random?: () => number;
  /**
   * 1: every document read is cached. 2: while the cache has room, every document read is
   * cached too; once it is full (keeping one means evicting another), a document is cached
   * at its second read within the doorkeeper's window (src/catalog/doorkeeper.ts), or at its
   * first if it was cached before (expired, dropped by a change, cleared). Default 1. "Not
   * found" answers are always cached.
   */
  admitAfter?: 1 | 2;
}

/** A monotonic millisecond clock (`performance` is one). */
export interface Clock {
  now(): number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
  /** Listing pages among the entries. */
  pages: number;
  /** Compressed representations stored (one per document and coding). */
  compressions: number;
  /** Compressions that failed (the document stays as it was). */
  compressionFailures: number;
  /** Documents read again ahead of their expiry, in the background (REFRESH_AHEAD_SHARE). */
  refreshes: number;
  /** Documents read and not cached: the cache was full and they were asked for once in the doorkeeper's window (admitAfter 2). */
  refused: number;
}

export interface DocumentCache {
  /**
   * The entry for `key`: synchronously on a hit, else a promise of the loaded entry.
   * Concurrent misses for one key share a single load.
   */
  get(key: string): CacheEntry | Promise<CacheEntry>;
  /**
   * Says a request wanted `doc` in `coding`, which it does not have yet: at the configured
   * request count the document is compressed on the thread pool, and the cached entry, if
   * it is still the cached one, is replaced by one with both (its size charged, its expiry kept).
   */
  encode(doc: Document, coding: Coding): void;
  /** Drops every entry (after a catalog reload). Loads in flight are discarded, not cached. */
  clear(): void;
  /**
   * Drops these keys (after a change set), and the listing pages (keys starting with `l`)
   * `stalePage` answers true for; their loads in flight are discarded, not cached. Returns the
   * entries dropped.
   */
  drop(keys: Iterable<string>, stalePage?: (key: string) => boolean): number;
  stats(): CacheStats;
}

// Bytes charged per entry beyond the body's and key's characters: string headers, ETag,
// entry object and the LRU's own slots. Measured as heapUsed after gc() over 100k entries
// of 100 and 1000 bytes: 296 and 290 bytes.
export const ENTRY_OVERHEAD_BYTES = 300;
// Per stored compressed representation beyond its bytes: its object, string header and ETag.
export const REPRESENTATION_OVERHEAD_BYTES = 100;
const NOT_FOUND_SIZE = ENTRY_OVERHEAD_BYTES;
// A document asked for in the last tenth of its lifetime is read again in the background
// while it keeps being served; the same bytes renew the entry (compressed ones kept). Without
// it a hot set filled at once (a start, a warm-up) expired at once a lifetime later: under hot
// page views with a 300 s TTL (and a reload running), misses went from ~0 to 2-3k a second for
// about a minute. With it and TTL_JITTER_SHARE (no reload): 124k refreshes over ~3 min, misses
// at most ~800 a second, 44k in all (2026-12-06, full catalog, 2 workers, 256 MiB caches).
export const REFRESH_AHEAD_SHARE = 0.1;
// Background reads a worker has in flight at most: a few of the reads it holds before shedding
// misses (PG_POOL_MAX + PG_QUEUE_MAX: 264 by default, 16 in the bench's overload scenario), so
// refreshes never crowd out the misses of waiting requests. A hit finding them all busy leaves
// its document to the next hit.
export const MAX_REFRESHES_IN_FLIGHT = 4;
// Each document lives ttlMs less up to this share of it, drawn at every load or refresh: the
// documents of a burst of misses (a start, a reload's changes) come due over a minute of a
// 300 s TTL rather than in the same few seconds, and drift further apart with each renewal.
// Without it the refreshes alone would read such a set again within the same 30 s (by design
// of the refresh window; not measured apart).
export const TTL_JITTER_SHARE = 0.2;

function etagOf(body: string): string {
  return `"${createHash('sha1').update(body, 'latin1').digest('base64url')}"`;
}

/** A compressed representation's strong ETag: the identity's, tagged with the coding. */
export const codedEtag = (etag: string, coding: Coding): string => `${etag.slice(0, -1)}-${coding}"`;

/**
 * Every document is built here, all fields in one order: one hidden class for the hit path's
 * property loads, however its representations arrived (spreading in a coding made one class
 * per order of arrival, and the loads of a compressed hit megamorphic).
 */
const documentOf = (
  key: string,
  body: string,
  etag: string,
  br: Representation | null | undefined,
  gzip: Representation | null | undefined,
  refreshAt: number,
): Document => ({ key, body, etag, br, gzip, wants: 0, compressing: false, refreshAt });

const representationSize = (rep: Representation | null | undefined): number =>
  rep ? rep.body.length + REPRESENTATION_OVERHEAD_BYTES : 0;
const documentSize = (doc: Document): number =>
  doc.body.length + doc.key.length + ENTRY_OVERHEAD_BYTES + representationSize(doc.br) + representationSize(doc.gzip);

// Keys the doorkeeper remembers per filter: one per KiB of budget, about the documents the
// cache holds (styles 2.4 KB, products 0.7, related 0.1: 1.1 KB on average in hot page views).
const BUDGET_BYTES_PER_REMEMBERED_KEY = 1024;
// lru-cache's peek option, made once: a miss's read asks it of every key it loads.
const STALE_TOO = { allowStale: true } as const;

export function createDocumentCache(opts: CacheOptions): DocumentCache {
  const counters = { hits: 0, misses: 0, evictions: 0, compressions: 0, compressionFailures: 0, refreshes: 0, refused: 0 };
  const doorkeeper = opts.admitAfter === 2 ? createDoorkeeper(opts.maxBytes / BUDGET_BYTES_PER_REMEMBERED_KEY) : undefined;
  const refreshAheadMs = opts.ttlMs * REFRESH_AHEAD_SHARE;
  const random = opts.random ?? Math.random;
  const lifetime = (): number => Math.round(opts.ttlMs * (1 - TTL_JITTER_SHARE * random()));
  let refreshing = 0;
  const compression = opts.compression;
  let compressing = 0;
  // Token bucket of compressions: full at start, refilled at maxPerSecond.
  let tokens = compression?.maxPerSecond ?? 0;
  const clock = opts.clock ?? performance;
  let refilled = clock.now();
  const takeToken = (): boolean => {
    const now = clock.now();
    tokens = Math.min(compression!.maxPerSecond, tokens + ((now - refilled) * compression!.maxPerSecond) / 1000);
    refilled = now;
    if (tokens < 1) return false;
    tokens--;
    return true;
  };
  // Loads in flight, one per key: concurrent misses of a key share it. lru-cache's fetch()
  // does the same with an AbortController, its signal and listener per load, for aborts
  // nothing here uses (visible in perf of cold traffic; no throughput change above the noise).
  const loading = new Map<string, Promise<CacheEntry>>();
  // The cached listing pages' keys, kept apart: a change set that changes the list looks at
  // every page, once a second under a feed. Finding them among the documents meant walking every
  // key of the LRU: 23–68 ms for 74k entries (lru-cache checks each one's TTL), a stall of
  // each worker's event loop per set (npm run bench -- --scenarios changes: 0.79× before;
  // 0.79–0.96× over six runs after).
  const pages = new Set<string>();
  const isPage = (key: string): boolean => key[0] === 'l';

  // The doorkeeper's filters are charged to the budget (0.4–0.8 % of it: bits round up to a power of two).
  const maxSize = Math.max(1, opts.maxBytes - (doorkeeper?.bytes ?? 0));
  // Whether keeping `doc` would evict another: only then must it have been asked for before.
  const full = (doc: Document): boolean => lru.calculatedSize + documentSize(doc) > maxSize;
  const lru = new LRUCache<string, CacheEntry>({
    maxSize,
    ttl: opts.ttlMs,
    // No timers per entry: an expired entry stays, not served, until its next read replaces it
    // or it is evicted (noDeleteOnStaleGet below).
    ttlAutopurge: false,
    updateAgeOnGet: false,
    // An expired entry stays until its read replaces it (or it is evicted), so the read knows
    // the document was cached and admits it at once.
    noDeleteOnStaleGet: true,
    perf: clock,
    sizeCalculation: (value) => (value === NOT_FOUND ? NOT_FOUND_SIZE : documentSize(value)),
    dispose: (_value, key, reason) => {
      if (reason === 'evict') counters.evictions++;
      // 'set': the key holds a new value (a compressed representation added).
      if (reason !== 'set' && isPage(key)) pages.delete(key);
    },
  });

  const load = (key: string): Promise<CacheEntry> => {
    const loaded = opts.load(key).then(
      (body) => {
        let entry: CacheEntry = body === undefined ? NOT_FOUND : documentOf(key, body, etagOf(body), undefined, undefined, 0);
        // No longer the key's load: a clear() or drop() came after it started, so it may hold
        // what the catalog no longer says. The waiting callers get it, the cache does not keep it.
        if (loading.get(key) === loaded) {
          loading.delete(key);
          // A refresh (or a read after expiry) that read the same bytes: the cached entry, with
          // its compressed bodies, lives on.
          const current = lru.peek(key, STALE_TOO);
          if (entry !== NOT_FOUND && current !== undefined && current !== NOT_FOUND && current.etag === entry.etag) entry = current;
          if (entry === NOT_FOUND) lru.set(key, entry, { ttl: Math.min(opts.ttlMs, opts.notFoundTtlMs) });
          else if (doorkeeper !== undefined && current === undefined && full(entry) && !doorkeeper.seen(key)) counters.refused++;
          else {
            const ttl = lifetime();
            // Kept on the entry, so a hit needs no second lookup for its remaining lifetime.
            entry.refreshAt = clock.now() + ttl - refreshAheadMs;
            lru.set(key, entry, { ttl });
          }
          if (isPage(key) && lru.has(key)) pages.add(key);
        }
        return entry;
      },
      (err: unknown) => {
        if (loading.get(key) === loaded) loading.delete(key);
        throw err;
      },
    );
    loading.set(key, loaded);
    return loaded;
  };

  const stored = (doc: Document, coding: Coding, compressed: Buffer): void => {
    // Cleared, evicted, expired or replaced meanwhile: the result has no home.
    if (lru.peek(doc.key) !== doc) return;
    // Not smaller (a tiny document): identity is this coding's answer from now on.
    const rep = compressed.length < doc.body.length ? { body: compressed.toString('latin1'), etag: codedEtag(doc.etag, coding) } : null;
    const next = documentOf(doc.key, doc.body, doc.etag, coding === 'br' ? rep : doc.br, coding === 'gzip' ? rep : doc.gzip, doc.refreshAt);
    if (rep) counters.compressions++;
    lru.set(doc.key, next, { noUpdateTTL: true });
  };

  const encode = (doc: Document, coding: Coding): void => {
    if (compression === undefined || compression.afterRequests === 0 || doc[coding] !== undefined || doc.compressing) return;
    if (++doc.wants < compression.afterRequests || compressing >= compression.maxInFlight) return;
    // A document read but not cached (the doorkeeper's first sight) would be compressed for nothing.
    if (lru.peek(doc.key) !== doc || !takeToken()) return;
    doc.compressing = true;
    compressing++;
    compression.compress(coding, Buffer.from(doc.body, 'latin1')).then(
      (compressed) => {
        compressing--;
        stored(doc, coding, compressed);
      },
      () => {
        compressing--;
        counters.compressionFailures++;
        // Tried again after as many requests as the first time.
        doc.wants = 0;
        doc.compressing = false;
      },
    );
  };

  const refresh = (key: string): void => {
    refreshing++;
    counters.refreshes++;
    // A failed refresh leaves the entry to expire; the next miss reads it and reports the failure.
    load(key).then(
      () => refreshing--,
      () => refreshing--,
    );
  };

  return {
    encode,
    get(key) {
      const hit = lru.get(key);
      if (hit !== undefined) {
        counters.hits++;
        if (hit !== NOT_FOUND && clock.now() >= hit.refreshAt && refreshing < MAX_REFRESHES_IN_FLIGHT && !loading.has(key)) refresh(key);
        return hit;
      }
      counters.misses++;
      return loading.get(key) ?? load(key);
    },
    clear() {
      loading.clear();
      // What was cached comes back in at its next read (a reload's unchanged documents, the
      // hot set after a database restart), not at its second.
      if (doorkeeper !== undefined) for (const key of lru.keys()) doorkeeper.remember(key);
      lru.clear();
      pages.clear();
    },
    drop(keys, stalePage) {
      let dropped = 0;
      for (const key of keys) {
        loading.delete(key);
        if (lru.delete(key)) {
          dropped++;
          doorkeeper?.remember(key);
        }
      }
      if (stalePage !== undefined) {
        // Loads in flight are few (bounded by the reads in flight): one pass over them.
        for (const key of [...loading.keys()]) if (isPage(key) && stalePage(key)) loading.delete(key);
        for (const key of [...pages]) {
          if (stalePage(key) && lru.delete(key)) {
            dropped++;
            doorkeeper?.remember(key);
          }
        }
      }
      return dropped;
    },
    stats() {
      return { ...counters, bytes: lru.calculatedSize, entries: lru.size, pages: pages.size };
    },
  };
}
