import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { FILES } from '../../../db/etl/files';
import { generateCatalog } from '../../../db/generate/catalog';

/** A small generated export in `dir` (the default defect rate of the generator). */
export async function generateDataset(dir: string, products: number, seed = 1): Promise<void> {
  await generateCatalog({ out: dir, products, seed, defectRate: 0.0005 });
}

/**
 * Copies the export in `from` to `to` with every product renamed "<prefix><name>": a
 * second catalog whose every product document differs from the first's.
 */
export function renamedCopy(from: string, to: string, prefix: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const { file } of FILES) {
    const text = fs.readFileSync(path.join(from, file), 'utf8');
    const out = file === 'product.csv' ? text.replace(/^(\d+),"/gm, `$1,"${prefix}`) : text;
    fs.writeFileSync(path.join(to, file), out);
  }
}

/** The live catalog's document bodies for `keys` ("product:1", "styles:2", "related:3", "page:1:50"). */
export async function documentBodies(url: string, keys: readonly string[]): Promise<Map<string, string | undefined>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out = new Map<string, string | undefined>();
    for (const key of keys) {
      const [kind, a, b] = key.split(':');
      const { rows } =
        kind === 'page'
          ? await client.query<{ body: string }>(
              "SELECT '[' || coalesce(string_agg(body, ',' ORDER BY pos), '') || ']' AS body FROM catalog.product_list_doc WHERE pos > $1 AND pos <= $2",
              [(Number(a) - 1) * Number(b), Number(a) * Number(b)],
            )
          : await client.query<{ body: string }>(`SELECT body FROM catalog.${kind}_doc WHERE id = $1`, [Number(a)]);
      out.set(key, rows[0]?.body);
    }
    return out;
  } finally {
    await client.end();
  }
}

/** The HTTP path serving a document key. */
export function routeOf(key: string): string {
  const [kind, a, b] = key.split(':');
  if (kind === 'page') return `/products?page=${a}&count=${b}`;
  return kind === 'product' ? `/products/${a}` : `/products/${a}/${kind}`;
}
