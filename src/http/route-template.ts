import type { Context } from 'koa';

// @koa/router records the template of the route that answered (`/products/:product_id`) on
// the context under this name; the fast path and the 405/OPTIONS answers record theirs there
// too, so the request log and the metrics read one place whoever answered.
interface RoutedContext {
  _matchedRoute?: string;
  /** @koa/router's layers whose path matched, whatever their method. */
  matched?: ReadonlyArray<{ path: string }>;
}

/** The template of the route that answered `ctx`, or undefined when none matched. */
export function routeTemplate(ctx: Context): string | undefined {
  return (ctx as RoutedContext)._matchedRoute;
}

/** Records `template` as the route that answered `ctx` (logged and measured under it). */
export function setRouteTemplate(ctx: Context, template: string): void {
  (ctx as RoutedContext)._matchedRoute = template;
}

/** The template of a route whose path matched `ctx` for another method, if any. */
export function pathMatchedTemplate(ctx: Context): string | undefined {
  return (ctx as RoutedContext).matched?.[0]?.path;
}
