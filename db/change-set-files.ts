import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type pg from 'pg';
import { csvField } from './etl/csv-writer';

/** A live product as a change set rewrites it: its product.csv fields and its skus. */
export interface ChangedProduct {
  id: number;
  /** id, name, slogan, description, category (default_price is the change). */
  row: string[];
  skus: Array<{ id: number; styleId: number; size: string | null; quantity: number }>;
}

type ProductRow = { id: number; name: string; slogan: string | null; description: string | null; category: string | null; skus: ChangedProduct['skus'] | null };

const SELECT = `SELECT p.id, p.name, p.slogan, p.description, p.category,
         (SELECT json_agg(json_build_object('id', k.id, 'styleId', k.style_id, 'size', k.size, 'quantity', k.quantity))
            FROM catalog.styles s JOIN catalog.skus k ON k.style_id = s.id WHERE s.product_id = p.id) AS skus
    FROM catalog.product p`;

const toProduct = (r: ProductRow): ChangedProduct => ({ id: r.id, row: [String(r.id), r.name, r.slogan ?? '', r.description ?? '', r.category ?? ''], skus: r.skus ?? [] });

/** `count` products spread over the catalog (every k-th, residue `round`: never the same twice), with their skus. */
export async function productsSpread(client: pg.ClientBase, count: number, round: number): Promise<ChangedProduct[]> {
  const { rows } = await client.query<ProductRow>(`${SELECT} WHERE p.id % $1 = $2 ORDER BY p.id LIMIT $3`, [Math.max(1, Math.floor(1_000_000 / count)), round, count]);
  return rows.map(toProduct);
}

/** The live products among `ids`, with their skus, in id order. */
export async function productsById(client: pg.ClientBase, ids: readonly number[]): Promise<ChangedProduct[]> {
  const { rows } = await client.query<ProductRow>(`${SELECT} WHERE p.id = ANY($1::int[]) ORDER BY p.id`, [ids]);
  return rows.map(toProduct);
}

/**
 * Writes a change set into `dir` (emptied first): each product at a new price (`cents`), each
 * of its skus one more in stock (modulo 100): what a day of repricing and sales touches.
 */
export function writeChangeSet(dir: string, products: readonly ChangedProduct[], cents: number): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const price = (cents / 100).toFixed(2);
  const product = products.map((p) => [...p.row.map((v, i) => (i === 0 ? v : csvField(v))), price].join(','));
  fs.writeFileSync(path.join(dir, 'product.csv'), ['id,name,slogan,description,category,default_price', ...product].join('\n') + '\n');
  const skus = products.flatMap((p) => p.skus.map((k) => `${k.id},${k.styleId},${csvField(k.size ?? '')},${(k.quantity + 1) % 100}`));
  fs.writeFileSync(path.join(dir, 'skus.csv'), ['id,styleId,size,quantity', ...skus].join('\n') + '\n');
}

/**
 * The default_price product `id` is served at by the service at `baseUrl`, on a new connection
 * each time: the cluster hands each to its next worker, so calls in a row ask every worker.
 */
export function priceServed(baseUrl: string, id: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`${baseUrl}/products/${id}`, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          try {
            resolve((JSON.parse(body) as { default_price: string }).default_price);
          } catch {
            reject(new Error(`/products/${id} answered ${res.statusCode} with no product: ${body.slice(0, 200)}`));
          }
        });
      })
      .on('error', reject);
  });
}
