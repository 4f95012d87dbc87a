import type { ReadPool } from '../postgres/replicas';
import { isConnectionFailure } from '../postgres/errors';
import { createBatcher } from './batch';
import { CatalogOverloadedError } from './errors';
import { createDocumentCache, NOT_FOUND, type CacheEntry, type CacheStats, type Clock, type CompressionOptions, type Document } from './cache';
import type { Coding } from './compression';
import { pageKey, pageOfKey } from './listing-pages';

/** The precomputed documents of the catalog, read through the worker's cache. */
export interface DocumentStore {
  /** `/products/:id`, `/products/:id/styles` or `/products/:id/related`; NOT_FOUND for an unknown id. */
  product(kind: DocumentKind, id: number): CacheEntry | Promise<CacheEntry>;
  /** `/products?page&count`: always a document (an empty page is `[]`). */
  page(page: number, count: number): CacheEntry | Promise<CacheEntry>;
  /** A request wanted `doc` in `coding` and got another representation (cache.ts `encode`). */
  encode(doc: Document, coding: Coding): void;
  /** Forget every cached document, after the catalog changed. */
  invalidate(): void;
  /** Forget these cache keys (`p12`, `s12`, `r12`) and the listing pages `stalePage` names; returns entries dropped. */
  drop(keys: readonly string[], stalePage?: (key: string) => boolean): number;
  /**
   * Opens `connections` database connections and prepares the batch statement on each, so the
   * first burst of misses after a start waits neither for logins nor for planning. Never
   * fails: a database that is not there yet is met by the usual 503s later.
   */
  warm(connections: number): Promise<void>;
  cacheStats(): CacheStats;
}

export type DocumentKind = 'product' | 'styles' | 'related';

export interface DocumentStoreOptions {
  /** The primary's pool, or a router over read replicas (src/db/replicas.ts). */
  pool: ReadPool;
  /** Bytes the cached documents may fill: `documentBytes(CACHE_MAX_BYTES)` in a worker. */
  cacheMaxBytes: number;
  cacheTtlMs: number;
  notFoundTtlMs: number;
  /**
   * Most misses waiting for the database at once (pool connections plus a bounded queue; a
   * document or a page each). Beyond it a miss fails at once with 503 instead of queueing:
   * cache hits keep being served.
   */
  maxInFlight?: number;
  /**
   * Most document statements in flight at once: the pool's connections. While all are busy,
   * misses wait and leave together as the next batch. Default: no bound.
   */
  maxConcurrentReads?: number;
  /** Compressed representations of hot documents; none without. */
  compression?: CompressionOptions;
  /** Observes each database read, in seconds (metrics). */
  onFetch?: (kind: DocumentKind | 'page', seconds: number) => void;
  /** The cache's clock (cache.ts); default `performance`. */
  clock?: Clock;
  /** The cache's admission (cache.ts `admitAfter`); default 1, every read cached. */
  cacheAdmitAfter?: 1 | 2;
}

const KINDS = ['product', 'styles', 'related'] as const;
// Cache keys: one letter for the route, then its arguments.
const PREFIX: Record<DocumentKind, string> = { product: 'p', styles: 's', related: 'r' };
const KIND_OF_PREFIX = Object.fromEntries(KINDS.map((kind) => [PREFIX[kind], kind])) as Record<string, DocumentKind>;

// Named statements: parsed and planned once per connection, then only bound and executed.
/**
 * One kind's documents by id (parameter `$n`), answered as (cache key, body) rows: the view's
 * row unless a change set rebuilt the document since (catalog.doc_overlay, db/migrations/006),
 * whose row wins; an overlay row without a body is a removed product.
 */
const kindStatement = (kind: DocumentKind, n: number): string =>
  `SELECT '${PREFIX[kind]}' || id, body FROM catalog.${kind}_doc d WHERE id = ANY($${n}::int[])` +
  ` AND NOT EXISTS (SELECT 1 FROM catalog.doc_overlay o WHERE o.kind = '${PREFIX[kind]}' AND o.id = d.id)` +
  `\nUNION ALL SELECT '${PREFIX[kind]}' || id, body FROM catalog.doc_overlay WHERE kind = '${PREFIX[kind]}' AND id = ANY($${n}::int[]) AND body IS NOT NULL`;
/**
 * The documents of a batch, all kinds in one statement (one round trip instead of three: a
 * page view misses all three at once, and one snapshot serves a product's documents together);
 * parameters: the ids of each kind, in KINDS order.
 */
export const DOCUMENTS_STATEMENT = KINDS.map((kind, i) => kindStatement(kind, i + 1)).join('\nUNION ALL ');
/** One kind's documents, read alone when the batch statement fails: a broken view then fails only its own route. */
export const KIND_STATEMENTS = Object.fromEntries(KINDS.map((kind) => [kind, kindStatement(kind, 1)])) as Record<DocumentKind, string>;
// Most documents read by one statement: 64 index probes keep a batch's latency near one read's.
const MAX_BATCH = 64;
/**
 * The listing read, always one row: positions ($1, $2] of the id order (exported for the plan
 * test). Without change sets it is one range of product_list_doc's positions. Each product a
 * change set added (+1) or removed (-1) since the view was built shifts the positions of the
 * view's rows after it: the "moves" cut the id order into segments of constant shift, each
 * read as its own position range; an added product sits just after the view's last row below
 * it (catalog.list_moves holds the moves). Rebuilt entries (list_overlay) replace the view's
 * bodies, one primary-key probe per entry of the page. One index range per segment: a page
 * costs an index probe more per product added or removed since the last build.
 */
export const PAGE_STATEMENT = `WITH moves AS MATERIALIZED (
  SELECT id, move FROM catalog.list_moves
), segments AS (
  SELECT id AS lo, lead(id) OVER w AS hi, sum(move) OVER w AS shift FROM moves WINDOW w AS (ORDER BY id)
  UNION ALL SELECT NULL, min(id), 0 FROM moves
), added AS MATERIALIZED (
  SELECT m.id, coalesce((SELECT v.pos FROM catalog.product_list_doc v WHERE v.id < m.id ORDER BY v.id DESC LIMIT 1), 0) + s.shift AS pos
    FROM segments s JOIN moves m ON m.id = s.lo AND m.move = 1
), placed AS (
  SELECT b.pos + s.shift AS pos, coalesce((SELECT o.body FROM catalog.list_overlay o WHERE o.id = b.id), b.body) AS body
    FROM segments s CROSS JOIN LATERAL (
      SELECT v.id, v.pos, v.body FROM catalog.product_list_doc v
       WHERE v.pos > $1 - s.shift AND v.pos <= $2 - s.shift
         AND (s.lo IS NULL OR v.id > s.lo) AND (s.hi IS NULL OR v.id < s.hi)) b
  UNION ALL
  SELECT a.pos, (SELECT o.body FROM catalog.list_overlay o WHERE o.id = a.id) FROM added a WHERE a.pos > $1 AND a.pos <= $2
)
SELECT '[' || coalesce(string_agg(body, ',' ORDER BY pos), '') || ']' FROM placed WHERE pos > $1 AND pos <= $2`;

/**
 * The body as it goes on the wire: its UTF-8 bytes, one character per byte (a latin1
 * string). Kept as a string, a cached body lives in the V8 heap, whose limit follows the
 * cache budget (src/catalog/memory.ts); as a Buffer it lived outside it, and an evicted
 * one was freed only by the next full collection: RSS grew to 4× the budget under churn.
 * An all-ASCII body (the usual JSON) is already that string: nothing is copied.
 */
function wireString(body: string): string {
  return Buffer.byteLength(body) === body.length ? body : Buffer.from(body).toString('latin1');
}

// Thrown for every miss shed while the database reads are at their bound, tens of thousands a
// second in an overload: one instance, not a new Error and stack each.
const OVERLOADED = new CatalogOverloadedError();

export function createDocumentStore(opts: DocumentStoreOptions): DocumentStore {
  const maxInFlight = opts.maxInFlight ?? Infinity;
  let inFlight = 0;

  /** Counts `read` against the bound of reads in flight, failing at once beyond it. */
  const bounded = async <T>(read: () => Promise<T>): Promise<T> => {
    if (inFlight >= maxInFlight) throw OVERLOADED;
    inFlight++;
    try {
      return await read();
    } finally {
      inFlight--;
    }
  };

  const readPage = async (page: number, count: number): Promise<string> => {
    const started = process.hrtime.bigint();
    // Positions are 1-based; bigint-safe because page and count are bounded by the route.
    const values = [(page - 1) * count, page * count];
    const result = await opts.pool.query<[string]>({ name: 'atelier_page', text: PAGE_STATEMENT, values, rowMode: 'array' });
    opts.onFetch?.('page', Number(process.hrtime.bigint() - started) / 1e9);
    return wireString(result.rows[0]![0]);
  };

  const readRows = async (name: string, text: string, values: number[][], into: Map<string, string | Error>): Promise<void> => {
    const result = await opts.pool.query<[string, string]>({ name, text, values, rowMode: 'array' });
    for (const [key, body] of result.rows) into.set(key, wireString(body));
  };

  /** Reads a batch of documents: `keys` are cache keys (the kind's prefix, then the id). */
  const readDocuments = async (keys: string[]): Promise<Map<string, string | Error>> => {
    const started = process.hrtime.bigint();
    const ids: Record<DocumentKind, number[]> = { product: [], styles: [], related: [] };
    const kinds = keys.map((key) => KIND_OF_PREFIX[key[0]!]!);
    keys.forEach((key, i) => ids[kinds[i]!].push(Number(key.slice(1))));
    const found = new Map<string, string | Error>();
    try {
      await readRows('atelier_documents', DOCUMENTS_STATEMENT, KINDS.map((kind) => ids[kind]), found);
    } catch (err) {
      // No connection fails the batch (retrying per kind would only log in again); an error
      // of the statement (a view missing, say) may belong to one view: each kind is read
      // alone and fails on its own.
      if (isConnectionFailure(err)) throw err;
      await Promise.all(
        KINDS.filter((kind) => ids[kind].length > 0).map((kind) =>
          readRows(`atelier_${kind}`, KIND_STATEMENTS[kind], [ids[kind]], found).catch((kindErr: unknown) => {
            const failure = kindErr instanceof Error ? kindErr : new Error(String(kindErr));
            for (const id of ids[kind]) found.set(PREFIX[kind] + id, failure);
          }),
        ),
      );
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const kind of kinds) opts.onFetch?.(kind, seconds);
    return found;
  };
  const batched = createBatcher({ read: readDocuments, maxBatch: MAX_BATCH, maxConcurrent: opts.maxConcurrentReads ?? Infinity });

  const load = (key: string): Promise<string | undefined> => {
    if (key[0] === 'l') {
      const { page, count } = pageOfKey(key);
      return bounded(() => readPage(page, count));
    }
    return bounded(() => batched(key));
  };

  const cache = createDocumentCache({
    maxBytes: opts.cacheMaxBytes,
    ttlMs: opts.cacheTtlMs,
    notFoundTtlMs: opts.notFoundTtlMs,
    load,
    compression: opts.compression,
    clock: opts.clock,
    admitAfter: opts.cacheAdmitAfter,
  });

  return {
    product: (kind, id) => cache.get(PREFIX[kind] + id),
    page: (page, count) => cache.get(pageKey(page, count)),
    encode: cache.encode,
    invalidate: () => cache.clear(),
    drop: (keys, stalePage) => cache.drop(keys, stalePage),
    async warm(connections) {
      // Concurrent statements make the pool open a connection for each.
      const empty = (): Promise<void> => readRows('atelier_documents', DOCUMENTS_STATEMENT, KINDS.map(() => []), new Map());
      await Promise.allSettled(Array.from({ length: connections }, empty));
    },
    cacheStats: () => cache.stats(),
  };
}

export { NOT_FOUND };
