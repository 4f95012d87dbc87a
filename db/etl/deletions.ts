import fs from 'node:fs';
import path from 'node:path';
import { escapeIdentifier, type ClientBase } from 'pg';
import { createCsvParser } from './csv-parser';
import { UNQUOTED } from './csv-record';
import { FILES } from './files';
import { MAX_RECORD_BYTES, withoutBom } from './load-file';
import { DELETIONS_FILE } from './preflight';
import { emptyCounts, type FileCounts } from './reconcile';
import type { RejectsWriter } from './rejects';
import { parseUint } from './validate';

/** The rows a change set removes, per table (the file's name without `.csv`): id → line. */
export type Deletions = Map<string, Map<number, number>>;

const TABLES = new Set(FILES.map((f) => f.table));

/**
 * Reads `deletions.csv` (header `file,id`): each record names a row of one of the six files
 * by id. Rejects, with the load's reasons style: malformed records, an unknown file, an id
 * that is not a non-negative integer, a repeated row, and (checked against the live catalog
 * by `client`) a row that does not exist. The file is small by nature; it is held in memory.
 */
export async function readDeletions(
  client: ClientBase,
  dir: string,
  rejects: RejectsWriter,
): Promise<{ counts: FileCounts; deletions: Deletions }> {
  const counts = emptyCounts(DELETIONS_FILE);
  const deletions: Deletions = new Map([...TABLES].map((t) => [t, new Map<number, number>()]));
  const file = path.join(dir, DELETIONS_FILE);
  if (!fs.existsSync(file)) return { counts, deletions };

  const reject = (line: number, reason: string): void => {
    counts.rejected++;
    rejects.add(DELETIONS_FILE, line, reason);
  };
  let sawHeader = false;
  const parser = createCsvParser({ quotedFieldsEndAtLineEnd: false, maxRecordBytes: MAX_RECORD_BYTES, maxFields: 4 }, (rec) => {
    if (!sawHeader) {
      sawHeader = true; // preflightChanges checked it
      return;
    }
    counts.read++;
    if (rec.problem !== undefined) return reject(rec.line, rec.problem);
    if (rec.fieldCount !== 2) {
      if (rec.fieldCount === 1 && rec.ends[0] === rec.starts[0] && rec.kinds[0] === UNQUOTED) return reject(rec.line, 'empty line');
      return reject(rec.line, `wrong field count: ${rec.fieldCount} fields, expected 2`);
    }
    const name = rec.buf.toString('utf8', rec.starts[0], rec.ends[0]);
    const rows = deletions.get(name);
    if (rows === undefined) return reject(rec.line, `file is not one of ${[...TABLES].join(', ')}: ${JSON.stringify(name.slice(0, 40))}`);
    const id = parseUint(rec.buf, rec.starts[1]!, rec.ends[1]!);
    if (id < 0) return reject(rec.line, `id is not a non-negative integer: ${JSON.stringify(rec.buf.toString('utf8', rec.starts[1], rec.ends[1]).slice(0, 40))}`);
    if (rows.has(id)) return reject(rec.line, `duplicate deletion of ${name} ${id}`);
    rows.set(id, rec.line);
  });
  let first = true;
  for await (const data of fs.createReadStream(file)) {
    parser.push(withoutBom(data as Buffer, first));
    first = false;
  }
  parser.end();

  // A deletion of a row that is not there removes nothing: said, not silently ignored.
  for (const [table, rows] of deletions) {
    if (rows.size === 0) continue;
    const { rows: found } = await client.query<{ id: number }>(
      `SELECT id FROM catalog.${escapeIdentifier(table)} WHERE id = ANY($1::int[])`,
      [[...rows.keys()]],
    );
    const present = new Set(found.map((r) => r.id));
    for (const [id, line] of rows) {
      if (present.has(id)) continue;
      rows.delete(id);
      reject(line, `no ${table} row with id ${id} to delete`);
    }
    counts.loaded += rows.size;
  }
  return { counts, deletions };
}
