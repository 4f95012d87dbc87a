import type { CatalogFixture } from './catalog';

/**
 * A catalog exercising every quirk of the contract: id gaps, row ids out of insertion order,
 * null feature values and sale prices, styles without photos or skus, a product without
 * styles, related rows naming 0, the product itself, repeats and unknown ids, and text that
 * needs JSON escaping.
 */
export const FIXTURE: CatalogFixture = {
  products: [
    { id: 1, name: 'Camo Onesie', slogan: 'Blend in to your crowd', description: 'The So Fatigues will wake you up', category: 'Jackets', default_price: 140 },
    { id: 2, name: 'Bright Future Sunglasses', slogan: "You've got to wear shades", description: 'Where you are going', category: 'Accessories', default_price: '69.5' },
    { id: 3, name: 'Morning Joggers', slogan: null, description: null, category: 'Pants', default_price: 40 },
    { id: 5, name: 'Heir Force Ones', slogan: 'A sneaker', description: 'Quote " backslash \\ newline \n tab \t bell \u0007 café 👟', category: 'Kicks', default_price: 99 },
    { id: 7, name: 'Slacker\'s Slacks', slogan: 'Comfortable', description: 'No styles yet', category: 'Pants', default_price: '0' },
    { id: 8, name: 'Summer Shoes', slogan: 'Cool', description: 'Sandals', category: 'Kicks', default_price: 59 },
  ],
  features: [
    { id: 5, product_id: 1, feature: 'Buttons', value: 'Brass' },
    { id: 2, product_id: 1, feature: 'Fabric', value: 'Canvas' },
    { id: 3, product_id: 1, feature: 'Material', value: null },
    { id: 9, product_id: 5, feature: 'Sole', value: 'Rubber "gum"' },
  ],
  styles: [
    { id: 2, product_id: 1, name: 'Desert Brown & Tan', sale_price: 100, original_price: 140, default_style: false },
    { id: 1, product_id: 1, name: 'Forest Green & Black', sale_price: null, original_price: 140, default_style: true },
    { id: 3, product_id: 2, name: 'Black Lenses', sale_price: '49.99', original_price: '69.5', default_style: true },
  ],
  photos: [
    { id: 11, style_id: 1, url: 'https://img.example/b-668.jpg', thumbnail_url: 'https://img.example/b-300.jpg' },
    { id: 10, style_id: 1, url: 'https://img.example/a-668.jpg', thumbnail_url: 'https://img.example/a-300.jpg' },
    { id: 12, style_id: 3, url: 'https://img.example/c-668.jpg', thumbnail_url: null },
  ],
  skus: [
    { id: 38, style_id: 1, size: 'S', quantity: 16 },
    { id: 37, style_id: 1, size: 'XS', quantity: 8 },
    { id: 100, style_id: 3, size: '7.5', quantity: 0 },
  ],
  related: [
    { id: 4, current_product_id: 1, related_product_id: 3 },
    { id: 1, current_product_id: 1, related_product_id: 2 },
    { id: 5, current_product_id: 1, related_product_id: 0 },
    { id: 6, current_product_id: 1, related_product_id: 1 },
    { id: 7, current_product_id: 1, related_product_id: 2 },
    { id: 8, current_product_id: 1, related_product_id: 999 },
    { id: 9, current_product_id: 1, related_product_id: 8 },
    { id: 10, current_product_id: 1, related_product_id: 3 },
    { id: 11, current_product_id: 2, related_product_id: 1 },
  ],
};

const T = '2026-11-20T10:00:00.000Z';
const listEntry = (p: CatalogFixture['products'][number], price: string): Record<string, unknown> => ({
  id: p.id,
  // The default campus: fixtures are loaded straight into the tables, as the sample is.
  campus: 'hr-rfp',
  name: p.name,
  slogan: p.slogan ?? null,
  description: p.description ?? null,
  category: p.category ?? null,
  default_price: price,
  created_at: T,
  updated_at: T,
});

const [p1, p2, p3, p5, p7, p8] = FIXTURE.products as [
  CatalogFixture['products'][number], CatalogFixture['products'][number], CatalogFixture['products'][number],
  CatalogFixture['products'][number], CatalogFixture['products'][number], CatalogFixture['products'][number],
];

/** The documents the contract requires for FIXTURE, as JavaScript values (compared as JSON.stringify bytes). */
export const EXPECTED = {
  list: [listEntry(p1, '140.00'), listEntry(p2, '69.50'), listEntry(p3, '40.00'), listEntry(p5, '99.00'), listEntry(p7, '0.00'), listEntry(p8, '59.00')],
  product1: {
    ...listEntry(p1, '140.00'),
    features: [
      { feature: 'Fabric', value: 'Canvas' },
      { feature: 'Material', value: null },
      { feature: 'Buttons', value: 'Brass' },
    ],
  },
  product7: { ...listEntry(p7, '0.00'), features: [] },
  styles1: {
    product_id: '1',
    results: [
      {
        style_id: 1, name: 'Forest Green & Black', original_price: '140.00', sale_price: null, 'default?': true,
        photos: [
          { thumbnail_url: 'https://img.example/a-300.jpg', url: 'https://img.example/a-668.jpg' },
          { thumbnail_url: 'https://img.example/b-300.jpg', url: 'https://img.example/b-668.jpg' },
        ],
        skus: { '37': { quantity: 8, size: 'XS' }, '38': { quantity: 16, size: 'S' } },
      },
      {
        style_id: 2, name: 'Desert Brown & Tan', original_price: '140.00', sale_price: '100.00', 'default?': false,
        photos: [{ thumbnail_url: null, url: null }],
        skus: { null: { quantity: null, size: null } },
      },
    ],
  },
  styles2: {
    product_id: '2',
    results: [
      {
        style_id: 3, name: 'Black Lenses', original_price: '69.50', sale_price: '49.99', 'default?': true,
        photos: [{ thumbnail_url: null, url: 'https://img.example/c-668.jpg' }],
        skus: { '100': { quantity: 0, size: '7.5' } },
      },
    ],
  },
  styles7: { product_id: '7', results: [] },
  related1: [2, 3, 8],
  related2: [1],
  related3: [],
};

/** Product 5 on its own, to check JSON escaping byte for byte. */
export const EXPECTED_PRODUCT5 = { ...listEntry(p5, '99.00'), features: [{ feature: 'Sole', value: 'Rubber "gum"' }] };
