import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { escapeIdentifier, type ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyTextEncoder } from './copy-text';
import { createCsvParser, type CsvParser } from './csv-parser';
import { UNQUOTED, type CsvRecord } from './csv-record';
import { BadFileError } from './errors';
import { headerOf, type FileSpec, type ParentName } from './files';
import type { IdSet } from './id-set';
import type { Progress } from './progress';
import { emptyCounts, type FileCounts } from './reconcile';
import type { RejectsWriter } from './rejects';
import { createValidator, LOADED, REJECTED, type FileIds } from './validate';

export interface LoadFileOptions {
  /** A connection of its own: the file is loaded in one transaction on it. */
  client: ClientBase;
  /** Schema of the catalog being built (its tables are empty and without indexes). */
  schema: string;
  dir: string;
  spec: FileSpec;
  ids: FileIds;
  parents: Readonly<Record<ParentName, IdSet>>;
  rejects: RejectsWriter;
  progress?: Progress;
}

// 1 MiB reads: few enough syscalls and stream callbacks, small enough to keep memory flat.
export const READ_CHUNK_BYTES = 1 << 20;
// The smallest read and output chunk, in bytes.
const MIN_CHUNK_BYTES = 64 << 10;

/**
 * The read (and COPY output) chunk for a file of `size` bytes: 1 MiB, or the file's size when
 * smaller. A change set's files are kilobytes, and a feed reads several a second: 1 MiB
 * buffers for them would be mostly garbage for the collector.
 */
export const chunkBytesFor = (size: number): number => Math.min(READ_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, size + 1));
// Far above any real record (descriptions are a few hundred bytes); bounds the parser's buffer.
export const MAX_RECORD_BYTES = 1 << 20;
const MAX_FIELDS = 64;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The parser every reader of an export file uses for `spec`'s file (its first record is the header). */
export function fileParser(spec: FileSpec, onRecord: (rec: CsvRecord) => void): CsvParser {
  return createCsvParser({ quotedFieldsEndAtLineEnd: spec.quotedFieldsEndAtLineEnd, maxRecordBytes: MAX_RECORD_BYTES, maxFields: MAX_FIELDS }, onRecord);
}

/** A read chunk without the UTF-8 byte-order mark a file's first chunk may start with. */
export const withoutBom = (chunk: Buffer, first: boolean): Buffer => (first && chunk.subarray(0, 3).equals(BOM) ? chunk.subarray(3) : chunk);

/** The header's fields as written, or undefined when they were not plain unquoted names. */
function headerText(rec: CsvRecord): string | undefined {
  const names: string[] = [];
  for (let i = 0; i < Math.min(rec.fieldCount, rec.starts.length); i++) {
    if (rec.kinds[i] !== UNQUOTED) return undefined;
    names.push(rec.buf.toString('utf8', rec.starts[i], rec.ends[i]));
  }
  return names.join(',');
}

/**
 * Streams one CSV file through parsing and validation into `COPY ... FREEZE` (the table
 * was truncated in the same transaction, so rows are written frozen and need no later
 * hint-bit or freeze pass). Memory stays flat: one read chunk, one output chunk, and
 * waits on the COPY stream's and the rejects file's backpressure.
 */
export async function loadFile(opts: LoadFileOptions): Promise<FileCounts> {
  const { client, spec } = opts;
  // Identifiers cannot be query parameters: quoted, each name is one name, never SQL.
  const table = `${escapeIdentifier(opts.schema)}.${escapeIdentifier(spec.table)}`;
  const columns = spec.columns.map((c) => escapeIdentifier(c.column)).join(', ');
  const counts = emptyCounts(spec.file);
  const file = path.join(opts.dir, spec.file);
  const expectedHeader = headerOf(spec);

  await client.query('BEGIN');
  await client.query('SET LOCAL synchronous_commit = off');
  await client.query(`TRUNCATE ${table}`);
  const copy = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN WITH (FREEZE)`));
  let copyError: Error | undefined;
  copy.on('error', (err: Error) => (copyError ??= err));
  const chunkBytes = chunkBytesFor(fs.statSync(file).size);
  const encoder = new CopyTextEncoder((chunk) => copy.write(chunk), chunkBytes);
  const validator = createValidator(spec, opts.ids, opts.parents, encoder);

  let sawHeader = false;
  const parser = fileParser(
    spec,
    (rec) => {
      if (!sawHeader) {
        sawHeader = true;
        const found = headerText(rec);
        if (rec.problem !== undefined || found !== expectedHeader) {
          throw new BadFileError(`${spec.file}: header is not "${expectedHeader}"`);
        }
        return;
      }
      counts.read++;
      const outcome = validator.check(rec);
      if (outcome === LOADED) counts.loaded++;
      else if (outcome === REJECTED) {
        counts.rejected++;
        opts.rejects.add(spec.file, rec.line, validator.reason);
      } else counts.dropped++;
    },
  );

  const input = fs.createReadStream(file, { highWaterMark: chunkBytes });
  try {
    let first = true;
    for await (const data of input) {
      const chunk = withoutBom(data as Buffer, first);
      first = false;
      const before = counts.read;
      parser.push(chunk);
      opts.progress?.advance((data as Buffer).length, counts.read - before);
      if (copyError) throw copyError;
      if (copy.writableNeedDrain) await once(copy, 'drain');
      await opts.rejects.drained();
    }
    const before = counts.read;
    parser.end();
    opts.progress?.advance(0, counts.read - before);
    if (!sawHeader) throw new BadFileError(`${spec.file}: empty file (no header)`);
    encoder.flush();
    copy.end();
    await finished(copy);
    if (copyError) throw copyError;
    if (copy.rowCount !== counts.loaded) {
      throw new Error(`${spec.file}: PostgreSQL stored ${copy.rowCount} rows, expected ${counts.loaded}`);
    }
    await client.query('COMMIT');
    return counts;
  } catch (err) {
    input.destroy();
    // Sends CopyFail; the caller discards this connection, which rolls the transaction back.
    if (!copy.destroyed) copy.destroy(err as Error);
    throw err;
  }
}
