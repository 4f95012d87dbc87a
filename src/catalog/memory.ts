/**
 * How a worker spends its cache budget (CACHE_MAX_BYTES).
 *
 * Cached bodies are strings in the V8 heap (src/catalog/cache.ts), so the heap limit given to
 * the worker process bounds them and everything else the worker holds, and the garbage they
 * leave when evicted is freed by the same collector that is bounded. Of such a worker's RSS,
 * about 44 MiB is the node binary's mapped pages and about 25 MiB native allocations (malloc
 * arenas of the thread pool's compressions, the C heap): the V8 heap must stay near budget
 * + 30 MiB for RSS to stay within budget + 100 MiB.
 *
 * Measured with cold traffic until the caches turned over (`npm run bench -- --scenarios
 * cold-styles,memory,listing`, 2 workers, 128 MiB, interleaved rounds on one machine,
 * 2026-12-07): documents at 3/4 of the budget under a limit of budget + 40 MiB peaked at
 * 235 / 229 MiB RSS (and 237 / 236 in complete runs), over the bound; at 3/5 under budget
 * + 24 MiB, 213 / 213 MiB, with cold styles 11,352 / 11,672 req/s against 12,945 / 10,619
 * and listing pages 4,331 / 4,296 against 4,675 / 4,903 (0.20 / 0.19 of pgbench's rate in
 * the same round against 0.20 / 0.21). The heap's free room beside the documents is what
 * keeps the collector cheap: 0.4 x 128 + 24 = 75 MiB now, 72 MiB before.
 */

const MiB = 2 ** 20;
/** Share of the budget the cached documents may fill; the rest is collector headroom. */
export const DOCUMENT_SHARE = 0.6;
// The heap a worker needs beside its cache (MiB): code, pools, router, metrics, reads in
// flight (a batch is ≤ 64 documents, a listing page ≤ 1000 products). An idle worker uses
// about 10 MB (nodejs_heap_size_used_bytes); the rest is margin and collector room.
const BASE_HEAP_MIB = 24;
// The smallest old generation (MiB), whatever the budget. With a 1 KiB budget (the bench's
// listing and overload services) budget + 24 MiB gave a 25 MiB heap, in which listing pages
// fell from 4,551 / 4,897 to 450 / 478 req/s (`--scenarios listing,overload`, 2026-12-06):
// a 1000-product page and its JSON need room. Below a 16 MiB budget the heap is therefore
// larger than budget + 24 MiB, and RSS may pass budget + 100 MiB: such budgets turn the
// cache off in effect (the bench's uncached services), they are not a memory setting.
const MIN_HEAP_MIB = 40;
// The young generation (MiB per semi-space). With V8's default (16) cold-run workers were
// 40–60 MiB larger than with 2; 2 made 3.6× the scavenges of 8 (about 1–2 ms each here).
const SEMI_SPACE_MIB = 8;

/** Bytes the document cache may fill. */
export function documentBytes(cacheMaxBytes: number): number {
  return Math.floor(cacheMaxBytes * DOCUMENT_SHARE);
}

/** V8 flags for a worker with this cache budget: its heap limit follows the budget. */
export function workerHeapFlags(cacheMaxBytes: number): string[] {
  const oldSpaceMib = Math.max(MIN_HEAP_MIB, Math.ceil(cacheMaxBytes / MiB) + BASE_HEAP_MIB);
  return [`--max-semi-space-size=${SEMI_SPACE_MIB}`, `--max-old-space-size=${oldSpaceMib}`];
}
