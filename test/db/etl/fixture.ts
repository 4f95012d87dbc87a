import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

/**
 * test/fixtures/etl holds every defect of csv-format.md: multi-line quoted text, `""`
 * escapes, unterminated photo URLs, `null`s (a quoted "null" too, for a price), 1/0 and true/false, duplicate ids, orphans
 * at every level (including children of rejected parents), related 0, wrong field
 * counts, non-numeric and out-of-range values, a BOM (styles.csv) and an empty line.
 */
export const FIXTURE_DIR = path.join(__dirname, '..', '..', 'fixtures', 'etl');

export const EXPECTED_REJECTS = [
  'product.csv,8,duplicate id 4',
  'product.csv,9,"id is not a non-negative integer: ""x5"""',
  'product.csv,10,"default_price is not a price: ""abc"""',
  'product.csv,11,"wrong field count: 5 fields, expected 6"',
  'product.csv,12,"wrong field count: 7 fields, expected 6"',
  'product.csv,15,"id is out of range: ""99999999999"""',
  'features.csv,7,duplicate id 5',
  'features.csv,8,unknown product_id 6',
  'features.csv,9,unknown product_id 999',
  'features.csv,10,"wrong field count: 3 fields, expected 4"',
  'features.csv,11,"product_id is not a non-negative integer: ""abc"""',
  'styles.csv,7,duplicate id 5',
  'styles.csv,8,unknown productId 6',
  'styles.csv,9,unknown productId 1000',
  'styles.csv,10,"default_style is not 1/0/true/false: ""yes"""',
  'styles.csv,11,"sale_price is not a price: ""cheap"""',
  'styles.csv,12,"wrong field count: 5 fields, expected 6"',
  'photos.csv,5,"wrong field count: 3 fields, expected 4"',
  'photos.csv,7,duplicate id 5',
  'photos.csv,8,unknown styleId 6',
  'photos.csv,9,"styleId is not a non-negative integer: ""abc"""',
  'skus.csv,6,duplicate id 4',
  'skus.csv,7,"quantity is not a non-negative integer: ""-1"""',
  'skus.csv,8,"quantity is not a non-negative integer: ""ten"""',
  'skus.csv,9,unknown styleId 7',
  'skus.csv,10,unknown styleId 99',
  'skus.csv,12,"wrong field count: 5 fields, expected 4"',
  'skus.csv,13,"quantity is out of range: ""3000000000"""',
  'related.csv,8,unknown current_product_id 6',
  'related.csv,9,unknown current_product_id 555',
  'related.csv,10,duplicate id 2',
  'related.csv,11,"related_product_id is not a non-negative integer: ""abc"""',
  'related.csv,12,"wrong field count: 2 fields, expected 3"',
  'related.csv,16,unknown current_product_id 5',
  'related.csv,18,empty line',
];

export const EXPECTED_COUNTS = [
  { file: 'product.csv', read: 12, loaded: 6, rejected: 6, dropped: 0 },
  { file: 'features.csv', read: 13, loaded: 8, rejected: 5, dropped: 0 },
  { file: 'styles.csv', read: 13, loaded: 7, rejected: 6, dropped: 0 },
  { file: 'photos.csv', read: 9, loaded: 5, rejected: 4, dropped: 0 },
  { file: 'skus.csv', read: 13, loaded: 6, rejected: 7, dropped: 0 },
  { file: 'related.csv', read: 17, loaded: 7, rejected: 7, dropped: 3 },
];

const FILE_ORDER = EXPECTED_COUNTS.map((c) => c.file);

/** The rejects file's data lines, ordered by file (load order) then line. */
export function readRejects(file: string): string[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  expect(header).to.equal('file,line,reason');
  const key = (l: string): [number, number] => {
    const [name, line] = l.split(',');
    return [FILE_ORDER.indexOf(name!), Number(line)];
  };
  return lines.sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1]);
}
