import fs from 'node:fs';
import path from 'node:path';
import { QUOTED_ESCAPED } from './csv-record';
import { FILES, type ParentName } from './files';
import { chunkBytesFor, fileParser, withoutBom } from './load-file';
import { parseUint } from './validate';

/**
 * Every parent id the change set's files name (product ids of features, styles and related;
 * style ids of photos and skus), read with the loader's own parser: a superset of what the
 * validator will look up (it reads the same fields the same way, rejecting the rest), so the
 * live parents can be fetched by id instead of whole tables. Files not in `present` are skipped.
 */
export async function referencedParents(dir: string, present: ReadonlySet<string> | ReadonlyMap<string, unknown>): Promise<Record<ParentName, number[]>> {
  const found: Record<ParentName, Set<number>> = { product: new Set(), styles: new Set() };
  for (const spec of FILES) {
    const columns = spec.columns.flatMap((c, i) => (c.parent === undefined ? [] : [{ i, ids: found[c.parent] }]));
    if (columns.length === 0 || !present.has(spec.file)) continue;
    let header = true;
    const parser = fileParser(spec, (rec) => {
      if (header) return void (header = false);
      if (rec.problem !== undefined || rec.fieldCount !== spec.columns.length) return;
      for (const { i, ids } of columns) {
        if (rec.kinds[i] === QUOTED_ESCAPED) continue;
        const v = parseUint(rec.buf, rec.starts[i]!, rec.ends[i]!);
        if (v >= 0) ids.add(v);
      }
    });
    let first = true;
    const file = path.join(dir, spec.file);
    for await (const data of fs.createReadStream(file, { highWaterMark: chunkBytesFor(fs.statSync(file).size) })) {
      parser.push(withoutBom(data as Buffer, first));
      first = false;
    }
    parser.end();
  }
  return { product: [...found.product], styles: [...found.styles] };
}
