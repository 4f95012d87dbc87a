/**
 * How a worker spends its cache budget (CACHE_MAX_BYTES).
 *
 * Cached bodies are strings in the V8 heap (src/catalog/cache.ts), so the heap limit given to
 * the worker process bounds them and everything else the worker holds, and the garbage they
 * leave when evicted is freed by the same collector that is bounded. A quarter of the budget
 * is that garbage's room: with documents filling the whole heap, the collector would run a
 * full collection for every few megabytes evicted (measured: 62 mark-compacts per 40 s of cold
 * traffic at 3/4, p99 up to 57 ms; without a limit RSS grew to 4× the budget).
 */

const MiB = 2 ** 20;
/** Share of the budget the cached documents may fill; the rest is collector headroom. */
export const DOCUMENT_SHARE = 0.75;
// The heap a worker needs beside its cache: code, pools, router, metrics, reads in flight
// (a batch is ≤ 64 documents, a listing page ≤ 1000 products). Measured ~15 MB idle (MiB).
const BASE_HEAP_MIB = 40;
// The young generation (MiB per semi-space): V8's default of 16 keeps ~48 MB resident for
// garbage that lives microseconds; 2–4 doubles the scavenges (each ~1.5 ms on this 2-core box).
const SEMI_SPACE_MIB = 8;

/** Bytes the document cache may fill. */
export function documentBytes(cacheMaxBytes: number): number {
  return Math.floor(cacheMaxBytes * DOCUMENT_SHARE);
}

/** V8 flags for a worker with this cache budget: its heap limit follows the budget. */
export function workerHeapFlags(cacheMaxBytes: number): string[] {
  const oldSpaceMib = Math.ceil(cacheMaxBytes / MiB) + BASE_HEAP_MIB;
  return [`--max-semi-space-size=${SEMI_SPACE_MIB}`, `--max-old-space-size=${oldSpaceMib}`];
}
