import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';

/** The rejects report: a CSV `file,line,reason`, written as the load goes (bounded memory). */
export interface RejectsWriter {
  add(file: string, line: number, reason: string): void;
  /** Resolves once buffered lines are below the stream's high-water mark (backpressure). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

// Lines are gathered into ~64 KiB writes.
const BATCH_CHARS = 64 * 1024;

/** RFC-4180 quoting, only when needed. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export async function openRejectsWriter(file: string): Promise<RejectsWriter> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const stream = fs.createWriteStream(file);
  let failure: Error | undefined;
  stream.on('error', (err) => (failure = err));
  await once(stream, 'open');
  let batch = 'file,line,reason\n';

  const flush = (): void => {
    if (batch.length === 0) return;
    stream.write(batch);
    batch = '';
  };

  return {
    add(name, line, reason) {
      batch += `${csvField(name)},${line},${csvField(reason)}\n`;
      if (batch.length >= BATCH_CHARS) flush();
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
