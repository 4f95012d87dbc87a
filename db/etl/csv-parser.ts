import { isUtf8 } from 'node:buffer';
import { QUOTED, QUOTED_ESCAPED, UNQUOTED, type CsvRecord } from './csv-record';

/**
 * A streaming RFC-4180 record parser working on bytes (no string per field), so 26.7M
 * records cost a few seconds of CPU. Records may span chunks and, inside quotes, lines.
 *
 * With `quotedFieldsEndAtLineEnd` (photos.csv) a quoted field whose closing quote is
 * missing ends at the end of its line, as the export's URLs never contain newlines.
 */

export interface CsvParserOptions {
  quotedFieldsEndAtLineEnd: boolean;
  /** A record still open after this many bytes is rejected and parsing resumes on its next line. */
  maxRecordBytes: number;
  /** Fields stored per record; more are counted, not stored. */
  maxFields: number;
}

export interface CsvParser {
  push(chunk: Buffer): void;
  /** Parses what is left as the last record. */
  end(): void;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const INCOMPLETE = -1;

/** Length of `buf` without a trailing, incomplete UTF-8 sequence (which the next chunk completes). */
function completeUtf8Length(buf: Buffer): number {
  let i = buf.length - 1;
  const stop = Math.max(0, buf.length - 4);
  while (i >= stop && (buf[i]! & 0xc0) === 0x80) i--;
  if (i < stop) return buf.length;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i >= need ? buf.length : i;
}

export function createCsvParser(opts: CsvParserOptions, onRecord: (rec: CsvRecord) => void): CsvParser {
  const rec: CsvRecord = {
    buf: Buffer.alloc(0),
    line: 1,
    fieldCount: 0,
    starts: new Int32Array(opts.maxFields),
    ends: new Int32Array(opts.maxFields),
    kinds: new Uint8Array(opts.maxFields),
    problem: undefined,
  };
  const lineMode = opts.quotedFieldsEndAtLineEnd;
  let pending: Buffer | undefined;
  let line = 1;
  // After an over-long record: bytes are skipped up to and including the next newline.
  let skippingLine = false;
  // Whether the current buffer is valid UTF-8 without NUL bytes (then records need no check).
  let clean = true;
  let recordEnd = 0;
  let newlines = 0;

  const setField = (n: number, start: number, end: number, kind: number): void => {
    if (n < opts.maxFields) {
      rec.starts[n] = start;
      rec.ends[n] = end;
      rec.kinds[n] = kind;
    }
  };

  /** Parses one record at `start`; returns the offset after it, or INCOMPLETE. */
  const parseRecord = (buf: Buffer, start: number, eof: boolean): number => {
    const len = buf.length;
    let pos = start;
    let n = 0;
    newlines = 0;
    rec.problem = undefined;
    let lineEnd = buf.indexOf(LF, start);
    for (;;) {
      if (pos < len && buf[pos] === QUOTE) {
        const contentStart = pos + 1;
        let p = contentStart;
        let kind = QUOTED;
        let contentEnd: number;
        for (;;) {
          const q = buf.indexOf(QUOTE, p);
          if (lineMode) {
            if (lineEnd !== -1 && (q === -1 || q > lineEnd)) {
              // Unterminated quoted URL: the field and the record end with the line.
              const e = lineEnd > contentStart && buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
              setField(n, contentStart, e, kind);
              rec.fieldCount = n + 1;
              recordEnd = e;
              return lineEnd + 1;
            }
          } else {
            // Newlines inside quotes belong to the text; count them for line numbers.
            while (lineEnd !== -1 && (q === -1 || lineEnd < q)) {
              newlines++;
              lineEnd = buf.indexOf(LF, lineEnd + 1);
            }
          }
          if (q === -1) {
            if (!eof) return INCOMPLETE;
            if (!lineMode) rec.problem ??= 'unterminated quoted field';
            setField(n, contentStart, len, kind);
            rec.fieldCount = n + 1;
            recordEnd = len;
            return len;
          }
          if (q + 1 >= len && !eof) return INCOMPLETE;
          if (buf[q + 1] === QUOTE) {
            kind = QUOTED_ESCAPED;
            p = q + 2;
            continue;
          }
          contentEnd = q;
          pos = q + 1;
          break;
        }
        if (pos >= len) {
          setField(n, contentStart, contentEnd, kind);
          rec.fieldCount = n + 1;
          recordEnd = len;
          return len;
        }
        const c = buf[pos];
        if (c === COMMA) {
          setField(n++, contentStart, contentEnd, kind);
          pos++;
          continue;
        }
        if (c === LF || (c === CR && buf[pos + 1] === LF)) {
          setField(n, contentStart, contentEnd, kind);
          rec.fieldCount = n + 1;
          recordEnd = pos;
          return c === LF ? pos + 1 : pos + 2;
        }
        if (c === CR && pos + 1 >= len && !eof) return INCOMPLETE;
        // Text after the closing quote: the field runs on to the next delimiter, unusable.
        rec.problem ??= 'malformed quoted field (text after the closing quote)';
        let r = pos;
        while (r < len && buf[r] !== COMMA && buf[r] !== LF) r++;
        if (r >= len && !eof) return INCOMPLETE;
        setField(n, contentStart, r, kind);
        if (r < len && buf[r] === COMMA) {
          n++;
          pos = r + 1;
          continue;
        }
        rec.fieldCount = n + 1;
        recordEnd = r;
        return r >= len ? len : r + 1;
      }
      // Unquoted field: runs to the next comma or newline.
      let p = pos;
      let c = 0;
      while (p < len) {
        c = buf[p]!;
        if (c === COMMA || c === LF) break;
        p++;
      }
      if (p >= len && !eof) return INCOMPLETE;
      if (p < len && c === COMMA) {
        setField(n++, pos, p, UNQUOTED);
        pos = p + 1;
        continue;
      }
      const e = p > pos && buf[p - 1] === CR ? p - 1 : p;
      setField(n, pos, e, UNQUOTED);
      rec.fieldCount = n + 1;
      recordEnd = e;
      return p >= len ? len : p + 1;
    }
  };

  const emit = (buf: Buffer, start: number): void => {
    rec.buf = buf;
    rec.line = line;
    if (!clean && rec.problem === undefined) {
      const raw = buf.subarray(start, recordEnd);
      if (raw.indexOf(0) !== -1) rec.problem = 'contains a NUL byte';
      else if (!isUtf8(raw)) rec.problem = 'invalid UTF-8';
    }
    onRecord(rec);
    line += 1 + newlines;
  };

  const rejectOverlong = (buf: Buffer, start: number): number => {
    rec.buf = buf;
    rec.line = line;
    rec.fieldCount = 0;
    rec.problem = `record longer than ${opts.maxRecordBytes} bytes (unterminated quoted field?)`;
    onRecord(rec);
    line += 1;
    const lf = buf.indexOf(LF, start);
    if (lf !== -1) return lf + 1;
    skippingLine = true;
    return buf.length;
  };

  const run = (chunk: Buffer, eof: boolean): void => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    let pos = 0;
    if (skippingLine) {
      const lf = buf.indexOf(LF);
      if (lf === -1) return;
      skippingLine = false;
      pos = lf + 1;
    }
    const checked = eof ? buf.length : completeUtf8Length(buf);
    clean = buf.indexOf(0, pos) === -1 && isUtf8(buf.subarray(pos, checked));
    while (pos < buf.length) {
      const next = parseRecord(buf, pos, eof);
      if (next === INCOMPLETE) {
        if (buf.length - pos > opts.maxRecordBytes) {
          pos = rejectOverlong(buf, pos);
          continue;
        }
        pending = buf.subarray(pos);
        return;
      }
      emit(buf, pos);
      pos = next;
    }
  };

  return {
    push: (chunk) => run(chunk, false),
    end: () => {
      if (pending !== undefined && pending.length > 0) run(Buffer.alloc(0), true);
      pending = undefined;
    },
  };
}
