import fs from 'node:fs';
import { once } from 'node:events';

// Lines are gathered into ~1 MiB writes.
const BATCH_CHARS = 1 << 20;

/** One output CSV: lines are batched, writes respect the stream's backpressure. */
export class CsvOut {
  private batch = '';
  private readonly stream: fs.WriteStream;
  private failure: Error | undefined;
  /** Data lines written (the header excluded). */
  lines = 0;

  constructor(file: string, header: string) {
    this.stream = fs.createWriteStream(file);
    this.stream.on('error', (err) => (this.failure = err));
    this.batch = `${header}\n`;
  }

  /** Adds one record; `text` ends without a newline. */
  line(text: string): void {
    this.batch += text;
    this.batch += '\n';
    this.lines++;
    if (this.batch.length >= BATCH_CHARS) {
      this.stream.write(this.batch);
      this.batch = '';
    }
  }

  /** Resolves when the stream can take more. */
  async drained(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.stream.writableNeedDrain) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    if (this.batch) this.stream.write(this.batch);
    this.batch = '';
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) =>
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
}
