/** What the CSV parser (csv-parser.ts) hands to the loader and the validator: one record, as offsets into bytes. */

/** How a field was written: unquoted, quoted, or quoted with `""` escapes inside. */
export const UNQUOTED = 0;
export const QUOTED = 1;
export const QUOTED_ESCAPED = 2;

/** One parsed record. The parser reuses this object: read it inside the callback only. */
export interface CsvRecord {
  /** Buffer holding the record's bytes; field offsets index into it. */
  buf: Buffer;
  /** 1-based line on which the record starts. */
  line: number;
  /** Fields found (may exceed the stored maximum; then only the first ones are stored). */
  fieldCount: number;
  /** Content start/end offsets (quotes excluded) and kind of each stored field. */
  starts: Int32Array;
  ends: Int32Array;
  kinds: Uint8Array;
  /** Why the record cannot be used whatever its content (malformed quoting, bad bytes). */
  problem: string | undefined;
}
