/**
 * What a storefront sends for one product page, as named models in loadtest/scenarios.json's
 * `pageViews`, shared by the k6 scripts and the bench: no runtime imports, no Node or k6 APIs.
 *
 * A model lists the documents asked for the viewed product P, in order, then those asked for
 * each id R of P's related list. The observed Project Catwalk front end (model "storefront"):
 * `/products/P`, `/products/P/styles` twice, `/products/P/related`, then `/products/R` and
 * `/products/R/styles` for every R the related answer names, as it names them (the page does
 * not de-duplicate; this API's list holds no duplicates, the replaced one's did). The related
 * ids are the catalog's: k6 reads them from the related answer at run time, the bench from the
 * related documents in PostgreSQL before the run (wrk replays a file of paths).
 */
import type { PlannedRequest } from './traffic';

export type DocumentKind = 'product' | 'styles' | 'related';

export interface PageViewModel {
  /** For the report and the k6 tags. */
  description: string;
  /** Documents of the viewed product, in the order the page asks for them. */
  product: DocumentKind[];
  /** Documents of each related product, once per id of the related answer. */
  perRelated: DocumentKind[];
}

/** scenarios.json's `pageViews`. */
export interface PageViewModels {
  /** The model the k6 scripts and the bench's page-view scenarios use unless told otherwise. */
  default: string;
  models: Record<string, PageViewModel>;
}

/** One page view as drawn: a listing page, or a product page to expand with a model. */
export type PageView = { listing: PlannedRequest } | { productId: number; expect: 200 | 404 };

const SUFFIX: Record<DocumentKind, string> = { product: '', styles: '/styles', related: '/related' };

/** The named model; throws naming the known ones. */
export function pageViewModel(models: PageViewModels, name = models.default): PageViewModel {
  const model = models.models[name];
  if (model === undefined)
    throw new Error(`unknown page-view model ${name} (known: ${Object.keys(models.models).join(', ')})`);
  return model;
}

/** The requests for product `id` of `kinds`, in order; `expect` is what a correct service answers. */
export function documentRequests(
  id: number,
  kinds: readonly DocumentKind[],
  expect: 200 | 404,
  namePrefix = '',
): PlannedRequest[] {
  return kinds.map((kind) => ({ path: `/products/${id}${SUFFIX[kind]}`, expect, name: namePrefix + kind }));
}

/** The requests of the viewed product (the first the page sends). */
export function firstRequests(view: PageView, model: PageViewModel): PlannedRequest[] {
  return 'listing' in view ? [view.listing] : documentRequests(view.productId, model.product, view.expect);
}

/** The requests for the related ids the page read (tagged `related-product`, `related-styles`). */
export function relatedRequests(relatedIds: readonly number[], model: PageViewModel): PlannedRequest[] {
  return relatedIds.flatMap((id) => documentRequests(id, model.perRelated, 200, 'related-'));
}

/** Whether the page goes on to its related products' documents: a product that exists, with a model that asks for them. */
export function fansOut(view: PageView, model: PageViewModel): view is { productId: number; expect: 200 } {
  return !('listing' in view) && view.expect === 200 && model.perRelated.length > 0;
}

/** Every request of a page view, related ids from `relatedOf` (the bench's lookup of the catalog). */
export function expandPageView(
  view: PageView,
  model: PageViewModel,
  relatedOf: (id: number) => readonly number[],
): PlannedRequest[] {
  const first = firstRequests(view, model);
  if (!fansOut(view, model)) return first;
  return [...first, ...relatedRequests(relatedOf(view.productId), model)];
}
