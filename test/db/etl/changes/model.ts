import fs from 'node:fs';
import path from 'node:path';

/**
 * A catalog as plain rows, for tests of change sets: written as the CSV export, and merged
 * with a change set by the rules the ETL documents (deletions first, with their cascade; then
 * rows in parent-before-child order replace the row with their id or add one; a row whose
 * parent does not exist then is a reject; a related row naming product 0 removes its id).
 */
export type Row = Record<string, string | number | null>;
export type Catalog = Record<Table, Map<number, Row>>;
export type Table = 'product' | 'features' | 'styles' | 'photos' | 'skus' | 'related';

export const HEADERS: Record<Table, string[]> = {
  product: ['id', 'name', 'slogan', 'description', 'category', 'default_price'],
  features: ['id', 'product_id', 'feature', 'value'],
  styles: ['id', 'productId', 'name', 'sale_price', 'original_price', 'default_style'],
  photos: ['id', 'styleId', 'url', 'thumbnail_url'],
  skus: ['id', 'styleId', 'size', 'quantity'],
  related: ['id', 'current_product_id', 'related_product_id'],
};
export const TABLES = Object.keys(HEADERS) as Table[];
// Which column names the parent, and in which table.
const PARENT: Partial<Record<Table, [string, Table]>> = {
  features: ['product_id', 'product'],
  styles: ['productId', 'product'],
  photos: ['styleId', 'styles'],
  skus: ['styleId', 'styles'],
  related: ['current_product_id', 'product'],
};
// Columns written as quoted text (the rest: numbers, prices, booleans, `null`).
const QUOTED = new Set(['name', 'slogan', 'description', 'category', 'feature', 'url', 'thumbnail_url', 'size']);

export const emptyCatalog = (): Catalog =>
  Object.fromEntries(TABLES.map((t) => [t, new Map<number, Row>()])) as Catalog;

export function csvLine(table: Table, row: Row): string {
  return HEADERS[table]
    .map((h) => {
      const v = row[h];
      if (v === null || v === undefined) return 'null';
      if (QUOTED.has(h) || (h === 'value' && typeof v === 'string')) return `"${String(v).replace(/"/g, '""')}"`;
      return String(v);
    })
    .join(',');
}

/** Writes `rows` (or raw lines, for defects) per table as `<table>.csv` in `dir`. */
export function writeExport(dir: string, tables: Partial<Record<Table, Array<Row | string>>>, deletions?: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [table, rows] of Object.entries(tables) as Array<[Table, Array<Row | string>]>) {
    const lines = rows.map((r) => (typeof r === 'string' ? r : csvLine(table, r)));
    fs.writeFileSync(path.join(dir, `${table}.csv`), [HEADERS[table].join(','), ...lines].join('\n') + '\n');
  }
  if (deletions) fs.writeFileSync(path.join(dir, 'deletions.csv'), ['file,id', ...deletions].join('\n') + '\n');
}

export const catalogTables = (c: Catalog): Record<Table, Row[]> =>
  Object.fromEntries(TABLES.map((t) => [t, [...c[t].values()].sort((a, b) => Number(a.id) - Number(b.id))])) as Record<Table, Row[]>;

export interface ChangeSet {
  /** Valid rows only: what the ETL must accept. Defects are added as raw lines by the test. */
  rows: Partial<Record<Table, Row[]>>;
  deletions: Array<[Table, number]>;
}

/** The catalog after `changes`, by the documented rules. Throws if a row would be a reject (the test put it in rows by mistake). */
export function merge(base: Catalog, changes: ChangeSet): Catalog {
  const next = Object.fromEntries(TABLES.map((t) => [t, new Map(base[t])])) as Catalog;
  const removeStyle = (id: number): void => {
    next.styles.delete(id);
    for (const t of ['photos', 'skus'] as const) for (const [k, r] of next[t]) if (r.styleId === id) next[t].delete(k);
  };
  for (const [table, id] of changes.deletions) {
    if (table === 'product') {
      next.product.delete(id);
      for (const [k, r] of next.styles) if (r.productId === id) removeStyle(k);
      for (const [k, r] of next.features) if (r.product_id === id) next.features.delete(k);
      for (const [k, r] of next.related) if (r.current_product_id === id) next.related.delete(k);
    } else if (table === 'styles') removeStyle(id);
    else next[table].delete(id);
  }
  for (const table of ['product', 'styles', 'features', 'photos', 'skus', 'related'] as const) {
    for (const row of changes.rows[table] ?? []) {
      if (table === 'related' && row.related_product_id === 0) {
        next.related.delete(Number(row.id));
        continue;
      }
      const parent = PARENT[table];
      if (parent && !next[parent[1]].has(Number(row[parent[0]]))) throw new Error(`${table} ${row.id}: no parent`);
      next[table].set(Number(row.id), row);
    }
  }
  return next;
}

/** 60 products, each with one style (id = product id) and two skus. */
export function smallCatalog(): Catalog {
  const c = emptyCatalog();
  for (let id = 1; id <= 60; id++) {
    c.product.set(id, { id, name: `P${id}`, slogan: 's', description: 'd', category: 'c', default_price: '10.00' });
    c.styles.set(id, { id, productId: id, name: `S${id}`, sale_price: null, original_price: '10', default_style: 1 });
    for (const k of [2 * id, 2 * id + 1]) c.skus.set(k, { id: k, styleId: id, size: 'M', quantity: 1 });
  }
  return c;
}

/** A change set putting generation `g` into product `id`'s price, its style's price and its skus' quantities. */
export function generation(dir: string, id: number, g: number): string {
  writeExport(dir, {
    product: [{ id, name: `P${id}`, slogan: 's', description: 'd', category: 'c', default_price: `${g}.00` }],
    styles: [{ id, productId: id, name: `S${id}`, sale_price: null, original_price: `${g}`, default_style: 1 }],
    skus: [2 * id, 2 * id + 1].map((k) => ({ id: k, styleId: id, size: 'M', quantity: g })),
  });
  return dir;
}
