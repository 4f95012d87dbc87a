import type { CatalogFixture } from '../support/catalog';

/** `count` products (ids 1…count) with a feature, two styles, photos, skus and related rows. */
export function fleetCatalog(count: number): CatalogFixture {
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  return {
    products: ids.map((id) => ({ id, name: `Product ${id}`, slogan: 'Fleet tested', category: 'Jackets', default_price: 10 + id })),
    features: ids.map((id) => ({ id, product_id: id, feature: 'Fabric', value: 'Canvas' })),
    styles: ids.flatMap((id) => [
      { id: 2 * id - 1, product_id: id, name: 'Black', sale_price: null, original_price: 10 + id, default_style: true },
      { id: 2 * id, product_id: id, name: 'White', sale_price: 5 + id, original_price: 10 + id, default_style: false },
    ]),
    photos: ids.map((id) => ({ id, style_id: 2 * id - 1, url: `https://img.example/${id}.jpg`, thumbnail_url: `https://img.example/${id}-t.jpg` })),
    skus: ids.flatMap((id) => [
      { id: 2 * id - 1, style_id: 2 * id - 1, size: 'S', quantity: 3 },
      { id: 2 * id, style_id: 2 * id - 1, size: 'M', quantity: 5 },
    ]),
    related: ids.map((id) => ({ id, current_product_id: id, related_product_id: (id % count) + 1 })),
  };
}

/** A request mix over the fixture's routes, the n-th path of a load. */
export function fleetPath(count: number): (n: number) => string {
  const routes = ['', '/styles', '/related'];
  return (n) => (n % 10 === 9 ? `/products?page=${(n % 7) + 1}&count=5` : `/products/${(n % count) + 1}${routes[n % 3]}`);
}
