/**
 * Storefront traffic, shared by the k6 scripts and the local runner: no imports, no Node or
 * k6 APIs, so both runtimes load it as is.
 *
 * A page view is a product page (which documents it asks for is a model of lib/page-views.ts,
 * named in scenarios.json's `pageViews`) or a listing page. Product popularity is
 * Zipf-distributed over the whole catalog; popular products are spread over the id range by
 * a fixed permutation (rank 1 is not id 1). Some page views are listing pages instead,
 * a share of them deep; a few name ids that do not exist.
 *
 * Every draw takes its `random` source as an argument: the runners pass the project's one
 * seeded PRNG (db/generate/prng.ts), so the same seed gives the same traffic in both. It is
 * not imported here: k6 needs import paths with their .ts extension, which Node's tsc refuses.
 * (Type-only imports are erased, so both runtimes accept them.)
 */
import type { PageView } from './page-views';

export interface TrafficMix {
  zipfExponent: number;
  /** Share of page views that are a listing page instead of a product. */
  listingShare: number;
  /** Share of listing pages drawn uniformly from the whole range (the rest: Zipf over pages). */
  deepListingShare: number;
  listingCount: number;
  /** Share of product page views naming an id that is not in the catalog. */
  unknownIdShare: number;
}

/**
 * Zipf(n, s) ranks 1…n by rejection-inversion (Hörmann and Derflinger, 1996): O(1) per draw
 * and no table, so a k6 VU does not hold a million-entry CDF.
 */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  // (exp(x) - 1) / x and log1p(x) / x, accurate near 0.
  const expm1OverX = (x: number): number => (Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2 + (x * x) / 6);
  const log1pOverX = (x: number): number => (Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x / 2 + (x * x) / 3);
  const h = (x: number): number => Math.exp(-s * Math.log(x));
  const hIntegral = (x: number): number => {
    const logX = Math.log(x);
    return expm1OverX((1 - s) * logX) * logX;
  };
  const hIntegralInverse = (x: number): number => {
    let t = x * (1 - s);
    if (t < -1) t = -1;
    return Math.exp(log1pOverX(t) * x);
  };
  const hIntegralX1 = hIntegral(1.5) - 1;
  const hIntegralN = hIntegral(n + 0.5);
  const squeeze = 2 - hIntegralInverse(hIntegral(2.5) - h(2));
  return () => {
    for (;;) {
      const u = hIntegralN + random() * (hIntegralX1 - hIntegralN);
      const x = hIntegralInverse(u);
      const k = Math.min(Math.max(Math.floor(x + 0.5), 1), n);
      if (k - x <= squeeze || u >= hIntegral(k + 0.5) - h(k)) return k;
    }
  };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** A fixed bijection of 0…n-1 (multiplication by a stride coprime to n) spreading ranks over positions. */
export function rankToPosition(n: number): (rank: number) => number {
  let stride = 7919;
  while (gcd(stride, n) !== 1) stride += 2;
  return (rank) => ((rank - 1) * stride + 12_345) % n;
}

export interface CatalogShape {
  /** Number of products (positions 1…size in id order). */
  size: number;
  /** Product id at a 0-based position; ids have gaps. */
  idAt: (position: number) => number;
  /** Largest id in the catalog: ids above it are unknown. */
  maxId: number;
}

/** One request of the mix: a path, and the status a correct service answers. */
export interface PlannedRequest {
  path: string;
  expect: 200 | 404;
  /** `page`, `styles`, `related`, `product` or `listing`: for tagging in k6. */
  name: string;
}

/**
 * Draws page views before a page-view model expands them (lib/page-views.ts): a listing page,
 * or a product (Zipf over the catalog; a few unknown ids).
 */
export function drawPageViews(shape: CatalogShape, mix: TrafficMix, random: () => number): () => PageView {
  const rank = zipfSampler(shape.size, mix.zipfExponent, random);
  const position = rankToPosition(shape.size);
  const pages = Math.max(1, Math.ceil(shape.size / mix.listingCount));
  const pageRank = zipfSampler(pages, mix.zipfExponent, random);
  return () => {
    if (random() < mix.listingShare) {
      const page = random() < mix.deepListingShare ? 1 + Math.floor(random() * pages) : pageRank();
      return { listing: { path: `/products?page=${page}&count=${mix.listingCount}`, expect: 200, name: 'listing' } };
    }
    const unknown = random() < mix.unknownIdShare;
    const id = unknown ? shape.maxId + 1 + Math.floor(random() * 1_000_000) : shape.idAt(position(rank()));
    return { productId: id, expect: unknown ? 404 : 200 };
  };
}

/** Uniform product page views over the whole catalog (a cold cache's worst case), before expansion. */
export function drawUniformPageViews(shape: CatalogShape, random: () => number): () => PageView {
  return () => ({ productId: shape.idAt(Math.floor(random() * shape.size)), expect: 200 });
}

/** Uniform page views over the whole catalog: every product equally likely (a cold cache's worst case). */
export function uniformPageViews(shape: CatalogShape, random: () => number): () => PlannedRequest[] {
  return () => {
    const id = shape.idAt(Math.floor(random() * shape.size));
    return [
      { path: `/products/${id}`, expect: 200, name: 'product' },
      { path: `/products/${id}/styles`, expect: 200, name: 'styles' },
      { path: `/products/${id}/related`, expect: 200, name: 'related' },
    ];
  };
}

/**
 * The most requested document alone: `/products/:id/styles` of the `products` most popular
 * products, Zipf over their ranks (spread over the id range as page views are).
 */
export function hotStyles(shape: CatalogShape, mix: TrafficMix, products: number, random: () => number): () => PlannedRequest[] {
  const rank = zipfSampler(Math.min(products, shape.size), mix.zipfExponent, random);
  const position = rankToPosition(shape.size);
  return () => [{ path: `/products/${shape.idAt(position(rank()))}/styles`, expect: 200, name: 'styles' }];
}

/** `/products/:id/styles` of products drawn uniformly from the whole catalog. */
export function uniformStyles(shape: CatalogShape, random: () => number): () => PlannedRequest[] {
  return () => [{ path: `/products/${shape.idAt(Math.floor(random() * shape.size))}/styles`, expect: 200, name: 'styles' }];
}
