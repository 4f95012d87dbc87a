import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';

/**
 * One CSV file written line by line with flat memory: lines are gathered into batches, and
 * the caller awaits `drained()` now and then so it never runs ahead of the disk. Used by
 * the generator's six output files and the ETL's rejects report.
 */
export interface CsvWriter {
  /** Adds one record; `text` is the record without its final newline. */
  line(text: string): void;
  /** Data lines added so far (the header excluded). */
  readonly lines: number;
  /** Resolves once the file's stream can take more (backpressure); throws a write failure. */
  drained(): Promise<void>;
  /** Writes what is left and closes the file; throws a write failure. */
  close(): Promise<void>;
}

// Lines are gathered into ~1 MiB writes: few write calls for the generator's gigabytes,
// and at most one such batch held per file.
const BATCH_CHARS = 1 << 20;

/** RFC-4180 quoting, only when needed. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Creates (or truncates) `file`, its folder too, with `header` as its first line; resolves
 * once the file is open, so a path that cannot be written fails here, before any work.
 */
export async function openCsvWriter(file: string, header: string): Promise<CsvWriter> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const stream = fs.createWriteStream(file);
  let failure: Error | undefined;
  stream.on('error', (err) => (failure = err));
  await once(stream, 'open');
  let batch = `${header}\n`;
  let lines = 0;

  const flush = (): void => {
    if (batch.length === 0) return;
    stream.write(batch);
    batch = '';
  };

  return {
    line(text) {
      batch += text;
      batch += '\n';
      lines++;
      if (batch.length >= BATCH_CHARS) flush();
    },
    get lines() {
      return lines;
    },
    async drained() {
      if (failure) throw failure;
      if (stream.writableNeedDrain) await once(stream, 'drain');
    },
    async close() {
      flush();
      if (failure) throw failure;
      await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    },
  };
}
