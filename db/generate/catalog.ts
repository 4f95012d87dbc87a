import fs from 'node:fs';
import path from 'node:path';
import { FILES } from '../etl/files';
import { createContext, PROPORTIONS } from './context';
import type { Random } from './prng';
import { writePhotos, writeSkus } from './style-rows';
import * as text from './text';

/**
 * Writes the six files of a synthetic Atelier export: the full export's proportions and
 * field sizes, deterministic per seed, and every defect of csv-format.md at a small rate.
 * Rows are written in one pass over the products, each product with its children, so
 * memory stays flat whatever the size.
 */

export { PROPORTIONS } from './context';

export interface GenerateOptions {
  out: string;
  products: number;
  seed: number;
  /** Rate of each defect kind per eligible row (0.0005 = 0.05%). */
  defectRate: number;
  /** Called every 10,000 products. */
  onProgress?: (productsDone: number) => void;
}

export interface GenerateResult {
  /** Data lines per file (a multi-line record counts once). */
  records: Record<string, number>;
  /** Defects injected, by kind. */
  defects: Record<string, number>;
  bytes: number;
}

// A parent id that never exists: product ids stop at n.
const orphanProduct = (r: Random, n: number): number => n + 1 + r.int(1000);

export async function generateCatalog(opts: GenerateOptions): Promise<GenerateResult> {
  fs.mkdirSync(opts.out, { recursive: true });
  const g = await createContext(opts);
  const { r, n, outs, ids, defect, count } = g;

  const product = (p: number): number => {
    const price = 5 + r.int(995);
    const multiline = r.next() < 0.001;
    if (multiline) count('product: multi-line description');
    const head = `${p},${text.quote(text.productName(r))},${text.quote(text.slogan(r))},${text.quote(text.description(r, multiline))}`;
    const category = text.quote(r.pick(text.CATEGORIES));
    switch (defect(3)) {
      case 0:
        count('product: non-numeric default_price');
        outs.product.line(`${head},${category},"$${price}"`);
        break;
      case 1:
        count('product: wrong field count');
        outs.product.line(`${head},${price}`);
        break;
      case 2:
        count('product: duplicate id');
        outs.product.line(`${head},${category},${price}`);
        outs.product.line(`${p},"Duplicate ${p}","","","${r.pick(text.CATEGORIES)}",${price + 1}`);
        break;
      default:
        outs.product.line(`${head},${category},${price}`);
    }
    return price;
  };

  const features = (p: number): void => {
    for (let k = r.count(PROPORTIONS.features); k > 0; k--) {
      const id = ++ids.feature;
      const value = r.next() < 0.1 ? 'null' : text.quote(r.pick(text.FEATURE_VALUES));
      const name = text.quote(r.pick(text.FEATURES));
      switch (defect(4)) {
        case 0:
          count('features: non-numeric product_id');
          outs.features.line(`${id},p${p},${name},${value}`);
          break;
        case 1:
          count('features: wrong field count');
          outs.features.line(`${id},${p},${name},${value},"extra"`);
          break;
        case 2:
          count('features: duplicate id');
          outs.features.line(`${id},${p},${name},${value}`);
          outs.features.line(`${id},${p},"Duplicate","${id}"`);
          break;
        case 3:
          count('features: orphan');
          outs.features.line(`${id},${p},${name},${value}`);
          outs.features.line(`${++ids.feature},${orphanProduct(r, n)},${name},${value}`);
          break;
        default:
          outs.features.line(`${id},${p},${name},${value}`);
      }
    }
  };

  const styles = (p: number, price: number): void => {
    for (let k = 0, total = r.count(PROPORTIONS.styles); k < total; k++) {
      const id = ++ids.style;
      const sale = r.next() < 0.65 ? 'null' : String(Math.max(1, Math.floor(price * (0.5 + r.next() * 0.4))));
      const flag =
        r.next() < 0.0005
          ? (count('styles: default_style true/false (loaded)'), k === 0 ? 'true' : 'false')
          : k === 0
            ? '1'
            : '0';
      const row = `${id},${p},${text.quote(r.pick(text.COLORS))},${sale},${price},${flag}`;
      switch (defect(4)) {
        case 0:
          count('styles: non-numeric original_price');
          outs.styles.line(`${id},${p},${text.quote(r.pick(text.COLORS))},${sale},"n/a",${flag}`);
          break;
        case 1:
          count('styles: wrong field count');
          outs.styles.line(`${id},${p},${sale},${price},${flag}`);
          break;
        case 2:
          count('styles: duplicate id');
          outs.styles.line(row);
          outs.styles.line(`${id},${p},"Duplicate",null,${price},0`);
          break;
        case 3:
          count('styles: orphan');
          outs.styles.line(row);
          outs.styles.line(`${++ids.style},${orphanProduct(r, n)},"Orphan",null,${price},0`);
          break;
        default:
          outs.styles.line(row);
      }
      writePhotos(g, id);
      writeSkus(g, id);
    }
  };

  const related = (p: number): void => {
    for (let k = r.count(PROPORTIONS.related); k > 0; k--) {
      const id = ++ids.related;
      const other = 1 + r.int(n);
      switch (defect(5)) {
        case 0:
          count('related: related_product_id 0 (dropped)');
          outs.related.line(`${id},${p},0`);
          break;
        case 1:
          count('related: wrong field count');
          outs.related.line(`${id},${p}`);
          break;
        case 2:
          count('related: duplicate id');
          outs.related.line(`${id},${p},${other}`);
          outs.related.line(`${id},${p},${1 + r.int(n)}`);
          break;
        case 3:
          count('related: orphan');
          outs.related.line(`${id},${p},${other}`);
          outs.related.line(`${++ids.related},${orphanProduct(r, n)},${other}`);
          break;
        case 4:
          count('related: non-numeric related_product_id');
          outs.related.line(`${id},${p},"#${other}"`);
          break;
        default:
          outs.related.line(`${id},${p},${other}`);
      }
    }
  };

  const all = Object.values(outs);
  try {
    for (let p = 1; p <= n; p++) {
      const price = product(p);
      features(p);
      styles(p, price);
      related(p);
      if (p % 10_000 === 0) {
        opts.onProgress?.(p);
        await Promise.all(all.map((o) => o.drained()));
      }
    }
  } finally {
    await Promise.all(all.map((o) => o.close()));
  }
  const records = Object.fromEntries(FILES.map((f) => [f.file, outs[f.table as keyof typeof outs].lines]));
  const bytes = FILES.reduce((sum, f) => sum + fs.statSync(path.join(opts.out, f.file)).size, 0);
  return { records, defects: g.defects, bytes };
}
