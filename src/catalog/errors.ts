/**
 * A miss refused at once because the database reads in flight are at their bound: the catalog
 * is overloaded, not broken. The HTTP layer answers it with 503 and Retry-After.
 */
export class CatalogOverloadedError extends Error {
  constructor() {
    super('catalog reads are at their bound');
    this.name = 'CatalogOverloadedError';
  }
}
