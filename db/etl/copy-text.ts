import { QUOTED_ESCAPED } from './csv-record';

/**
 * Encodes rows in PostgreSQL's COPY text format straight from the CSV's bytes into
 * 1 MiB output chunks handed to `sink` (the COPY stream). No per-field strings.
 */

const CHUNK_BYTES = 1 << 20;
const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

export class CopyTextEncoder {
  private buf: Buffer;
  private pos = 0;

  /** `chunkBytes`: the output chunk's size (smaller for a small input: a change set's file is kilobytes). */
  constructor(
    private readonly sink: (chunk: Buffer) => void,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Makes room for `n` more bytes, handing the current chunk over when full. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  /** Copies bytes that need no escaping (validated numbers). */
  raw(src: Buffer, start: number, end: number): void {
    this.ensure(end - start);
    src.copy(this.buf, this.pos, start, end);
    this.pos += end - start;
  }

  /** Writes a text field: `""` becomes `"` when `kind` says so; \ tab CR LF are escaped. */
  text(src: Buffer, start: number, end: number, kind: number): void {
    // Worst case every byte is escaped into two.
    this.ensure(2 * (end - start));
    const out = this.buf;
    let o = this.pos;
    const unescapeQuotes = kind === QUOTED_ESCAPED;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c > BACKSLASH || (c > CR && c !== BACKSLASH && c !== QUOTE)) {
        out[o++] = c;
      } else if (c === BACKSLASH) {
        out[o++] = BACKSLASH;
        out[o++] = BACKSLASH;
      } else if (c === QUOTE) {
        out[o++] = QUOTE;
        if (unescapeQuotes) i++;
      } else if (c === LF) {
        out[o++] = BACKSLASH;
        out[o++] = 0x6e; // n
      } else if (c === CR) {
        out[o++] = BACKSLASH;
        out[o++] = 0x72; // r
      } else if (c === TAB) {
        out[o++] = BACKSLASH;
        out[o++] = 0x74; // t
      } else {
        out[o++] = c;
      }
    }
    this.pos = o;
  }

  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** SQL NULL. */
  null(): void {
    this.ensure(2);
    this.buf[this.pos++] = BACKSLASH;
    this.buf[this.pos++] = 0x4e; // N
  }

  tab(): void {
    this.ensure(1);
    this.buf[this.pos++] = TAB;
  }

  endRow(): void {
    this.ensure(1);
    this.buf[this.pos++] = LF;
  }

  /** Hands the bytes written so far to the sink. */
  flush(): void {
    if (this.pos === 0) return;
    this.sink(this.buf.subarray(0, this.pos));
    // The sink may hold on to the chunk: start a new one rather than overwrite it.
    this.buf = Buffer.allocUnsafe(this.chunkBytes);
    this.pos = 0;
  }
}
