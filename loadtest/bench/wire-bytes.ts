/**
 * Bytes on the wire per page view: what compression saves a storefront's clients. wrk counts
 * every byte it read (response headers and bodies, compressed or not); a page view of a row's
 * path list makes its paths over its page views in requests on average (page-view-paths.ts), so
 *
 *     bytes per page view = (bytes read / requests answered) × requests per page view
 *
 * over all of a row's runs together (their bytes over their requests).
 */
import type { Check } from './report';

/** What a wrk run counted: bytes read and requests answered. */
export interface WireCount {
  bytes: number;
  requests: number;
}

/** Bytes read per page view over `runs` (see above); NaN when no request was answered. */
export function wireBytesPerView(runs: readonly WireCount[], requestsPerView: number): number {
  const requests = runs.reduce((sum, r) => sum + r.requests, 0);
  if (requests === 0) return NaN;
  return (runs.reduce((sum, r) => sum + r.bytes, 0) / requests) * requestsPerView;
}

/**
 * The compressed traffic's bytes per page view over the identity traffic's (same paths),
 * and the target: at most `maxRatio`. Unmet when either figure is missing (the identity
 * scenario did not run) or not a positive number.
 */
export function wireRatioCheck(compressed: number, identity: number | undefined, maxRatio: number, what = 'wire bytes'): { ratio?: number; check: Check } {
  const label = `${what} ≤ ${maxRatio}× hot's`;
  if (identity === undefined || !(identity > 0) || !(compressed > 0)) return { check: [`${label} (no identity figure)`, false] };
  const ratio = compressed / identity;
  return { ratio, check: [label, ratio <= maxRatio] };
}
