import type { ReadPool } from '../db/replicas';
import { AppError } from '../http/errors';
import { createDocumentCache, NOT_FOUND, type CacheEntry, type CacheStats } from './cache';

/** The precomputed documents of the catalog, read through the worker's cache. */
export interface DocumentStore {
  /** `/products/:id`, `/products/:id/styles` or `/products/:id/related`; NOT_FOUND for an unknown id. */
  product(kind: DocumentKind, id: number): CacheEntry | Promise<CacheEntry>;
  /** `/products?page&count`: always a document (an empty page is `[]`). */
  page(page: number, count: number): CacheEntry | Promise<CacheEntry>;
  /** Forget every cached document, after the catalog changed. */
  invalidate(): void;
  cacheStats(): CacheStats;
}

export type DocumentKind = 'product' | 'styles' | 'related';

export interface DocumentStoreOptions {
  /** The primary's pool, or a router over read replicas (src/db/replicas.ts). */
  pool: ReadPool;
  cacheMaxBytes: number;
  cacheTtlMs: number;
  notFoundTtlMs: number;
  /**
   * Most database reads in flight at once (pool connections plus a bounded queue). Beyond it
   * a miss fails at once with 503 instead of queueing: cache hits keep being served.
   */
  maxInFlight?: number;
  /** Observes each database read, in seconds (metrics). */
  onFetch?: (kind: DocumentKind | 'page', seconds: number) => void;
}

// Named statements: parsed and planned once per connection, then only bound and executed.
const STATEMENTS: Record<DocumentKind, string> = {
  product: 'SELECT body FROM catalog.product_doc WHERE id = $1',
  styles: 'SELECT body FROM catalog.styles_doc WHERE id = $1',
  related: 'SELECT body FROM catalog.related_doc WHERE id = $1',
};
/** The listing read: a position range of product_list_doc (exported for the plan test). */
export const PAGE_STATEMENT =
  "SELECT '[' || coalesce(string_agg(body, ',' ORDER BY pos), '') || ']' FROM catalog.product_list_doc WHERE pos > $1 AND pos <= $2";

// Cache keys: one letter for the route, then its arguments.
const PREFIX: Record<DocumentKind, string> = { product: 'p', styles: 's', related: 'r' };
const KIND_OF_PREFIX: Record<string, DocumentKind> = { p: 'product', s: 'styles', r: 'related' };

/**
 * The body's UTF-8 bytes in a buffer of their own. Buffer.from() slices small strings out of
 * shared 8 KiB slabs, and one cached slice keeps its whole slab alive after its neighbours
 * are evicted: memory would no longer follow the cache's byte budget.
 */
function ownBuffer(body: string): Buffer {
  const buffer = Buffer.allocUnsafeSlow(Buffer.byteLength(body));
  buffer.write(body);
  return buffer;
}

export function createDocumentStore(opts: DocumentStoreOptions): DocumentStore {
  const maxInFlight = opts.maxInFlight ?? Infinity;
  let inFlight = 0;

  const query = async (kind: DocumentKind | 'page', text: string, values: unknown[]): Promise<Buffer | undefined> => {
    if (inFlight >= maxInFlight) throw new AppError(503, 'Service overloaded, retry shortly', { 'Retry-After': '1' });
    inFlight++;
    try {
      const started = process.hrtime.bigint();
      const result = await opts.pool.query<[string | null]>({ name: `atelier_${kind}`, text, values, rowMode: 'array' });
      opts.onFetch?.(kind, Number(process.hrtime.bigint() - started) / 1e9);
      const body = result.rows[0]?.[0];
      return body == null ? undefined : ownBuffer(body);
    } finally {
      inFlight--;
    }
  };

  const load = (key: string): Promise<Buffer | undefined> => {
    const args = key.slice(1).split(':');
    if (key[0] === 'l') {
      const [page, count] = args.map(Number) as [number, number];
      // Positions are 1-based; bigint-safe because page and count are bounded by the route.
      return query('page', PAGE_STATEMENT, [(page - 1) * count, page * count]);
    }
    const kind = KIND_OF_PREFIX[key[0] ?? ''];
    if (kind === undefined) throw new Error(`unknown cache key ${key}`);
    return query(kind, STATEMENTS[kind], [args[0]]);
  };

  const cache = createDocumentCache({
    maxBytes: opts.cacheMaxBytes,
    ttlMs: opts.cacheTtlMs,
    notFoundTtlMs: opts.notFoundTtlMs,
    load,
  });

  return {
    product: (kind, id) => cache.get(PREFIX[kind] + id),
    page: (page, count) => cache.get(`l${page}:${count}`),
    invalidate: () => cache.clear(),
    cacheStats: () => cache.stats(),
  };
}

export { NOT_FOUND };
