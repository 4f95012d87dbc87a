import { QUOTED, QUOTED_ESCAPED, UNQUOTED, type CsvRecord } from './csv-record';
import type { CopyTextEncoder } from './copy-text';
import type { ColumnSpec, FileSpec, ParentName } from './files';
import type { IdSet } from './id-set';

/**
 * Decides, record by record, whether a row is loaded, rejected (with a reason) or dropped,
 * following shared/contract/csv-format.md, and encodes loaded rows for COPY.
 *
 * Checks run in this order, the first failing one giving the reason: field count, then
 * each column's format, then related `0` (dropped), then duplicate id (the first
 * occurrence of an id wins, so a rejected duplicate never replaces it), then parent
 * existence. A parent that was itself rejected does not exist, so its children are
 * rejected too.
 */

export const LOADED = 0;
export const REJECTED = 1;
export const DROPPED = 2;
export type Outcome = typeof LOADED | typeof REJECTED | typeof DROPPED;

const INT32_MAX = 2_147_483_647;
const NOT_A_NUMBER = -1;
const OUT_OF_RANGE = -2;
// Prices are numeric(12,2); whole-dollar digits are capped below that so rounding never overflows.
const MAX_PRICE_INT_DIGITS = 9;

/** The non-negative int32 in buf[start, end), NOT_A_NUMBER or OUT_OF_RANGE. */
export function parseUint(buf: Buffer, start: number, end: number): number {
  if (end <= start) return NOT_A_NUMBER;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return NOT_A_NUMBER;
    v = v * 10 + d;
    if (v > INT32_MAX) {
      for (let j = i + 1; j < end; j++) if (buf[j]! < 0x30 || buf[j]! > 0x39) return NOT_A_NUMBER;
      return OUT_OF_RANGE;
    }
  }
  return v;
}

/** Whether buf[start, end) is a price: digits, optionally a point and more digits. */
export function checkPrice(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && buf[i] === 0x30 && i + 1 < end && buf[i + 1] !== 0x2e) i++; // leading zeros
  const intStart = i;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
  const intDigits = i - intStart;
  if (intDigits === 0) return NOT_A_NUMBER;
  if (i < end) {
    if (buf[i] !== 0x2e || i + 1 === end) return NOT_A_NUMBER;
    for (i++; i < end; i++) if (buf[i]! < 0x30 || buf[i]! > 0x39) return NOT_A_NUMBER;
  }
  return intDigits > MAX_PRICE_INT_DIGITS ? OUT_OF_RANGE : 0;
}

/** 1 for 1/true, 0 for 0/false (any case), NOT_A_NUMBER otherwise. */
function parseBool(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len === 1) return buf[start] === 0x31 ? 1 : buf[start] === 0x30 ? 0 : NOT_A_NUMBER;
  if (len !== 4 && len !== 5) return NOT_A_NUMBER;
  const word = buf.toString('latin1', start, end).toLowerCase();
  return word === 'true' ? 1 : word === 'false' ? 0 : NOT_A_NUMBER;
}

/**
 * Whether field i is the literal `null`. For text it must be unquoted ("null" in quotes is
 * the word); a price has no text reading, so there a quoted "null" means NULL too.
 */
const isNullLiteral = (rec: CsvRecord, i: number, quotedToo: boolean): boolean => {
  const s = rec.starts[i]!;
  const b = rec.buf;
  return (
    (rec.kinds[i] === UNQUOTED || (quotedToo && rec.kinds[i] === QUOTED)) &&
    rec.ends[i]! - s === 4 &&
    b[s] === 0x6e &&
    b[s + 1] === 0x75 &&
    b[s + 2] === 0x6c &&
    b[s + 3] === 0x6c
  );
};

/** A field's text for a reject reason: at most 40 characters, quoted. */
function excerpt(rec: CsvRecord, i: number): string {
  const s = rec.starts[i]!;
  const e = rec.ends[i]!;
  const text = rec.buf.toString('utf8', s, Math.min(e, s + 160));
  const short = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return JSON.stringify(short);
}

export interface RecordValidator {
  /** Validates one data record, encoding it when loaded; on REJECTED, `reason` says why. */
  check(rec: CsvRecord): Outcome;
  reason: string;
}

export interface FileIds {
  /** Every id claimed by a well-formed row (for duplicates). */
  seen: IdSet;
  /** Ids of the rows actually loaded (what children may reference); omit when nothing references this file. */
  loaded?: IdSet;
  /** Receives the id of each dropped row (a change set removes the row it names). */
  onDropped?: (id: number) => void;
}

export function createValidator(
  spec: FileSpec,
  ids: FileIds,
  parents: Readonly<Record<ParentName, IdSet>>,
  out: CopyTextEncoder,
): RecordValidator {
  const columns = spec.columns;
  const width = columns.length;
  const ints = new Float64Array(width);
  const idIndex = columns.findIndex((c) => c.type === 'id');
  const dropIndex = spec.dropWhenZero === undefined ? -1 : columns.findIndex((c) => c.header === spec.dropWhenZero);
  const parentChecks = columns
    .map((c, i) => ({ c, i }))
    .filter((x): x is { c: ColumnSpec & { parent: ParentName }; i: number } => x.c.parent !== undefined)
    .map(({ c, i }) => ({ i, header: c.header, ids: parents[c.parent] }));

  const self: RecordValidator = {
    reason: '',
    check(rec) {
      if (rec.problem !== undefined) return reject(rec.problem);
      if (rec.fieldCount !== width) {
        if (rec.fieldCount === 1 && rec.ends[0] === rec.starts[0] && rec.kinds[0] === UNQUOTED)
          return reject('empty line');
        return reject(`wrong field count: ${rec.fieldCount} fields, expected ${width}`);
      }
      for (let i = 0; i < width; i++) {
        const c = columns[i]!;
        const s = rec.starts[i]!;
        const e = rec.ends[i]!;
        const escaped = rec.kinds[i] === QUOTED_ESCAPED;
        switch (c.type) {
          case 'id':
          case 'parent':
          case 'int': {
            const v = escaped ? NOT_A_NUMBER : parseUint(rec.buf, s, e);
            if (v === NOT_A_NUMBER) return reject(`${c.header} is not a non-negative integer: ${excerpt(rec, i)}`);
            if (v === OUT_OF_RANGE) return reject(`${c.header} is out of range: ${excerpt(rec, i)}`);
            ints[i] = v;
            break;
          }
          case 'price-or-null':
          case 'price': {
            if (c.type === 'price-or-null' && isNullLiteral(rec, i, true)) break;
            const v = escaped ? NOT_A_NUMBER : checkPrice(rec.buf, s, e);
            if (v === NOT_A_NUMBER) return reject(`${c.header} is not a price: ${excerpt(rec, i)}`);
            if (v === OUT_OF_RANGE) return reject(`${c.header} is out of range: ${excerpt(rec, i)}`);
            break;
          }
          case 'bool': {
            const v = escaped ? NOT_A_NUMBER : parseBool(rec.buf, s, e);
            if (v === NOT_A_NUMBER) return reject(`${c.header} is not 1/0/true/false: ${excerpt(rec, i)}`);
            ints[i] = v;
            break;
          }
          default:
            break;
        }
      }
      const id = ints[idIndex]!;
      if (dropIndex !== -1 && ints[dropIndex] === 0) {
        ids.onDropped?.(id);
        return DROPPED;
      }
      if (!ids.seen.add(id)) return reject(`duplicate id ${id}`);
      for (const p of parentChecks) {
        const ref = ints[p.i]!;
        // The id stays claimed: the first row with it was this one, even though rejected.
        if (!p.ids.has(ref)) return reject(`unknown ${p.header} ${ref}`);
      }
      ids.loaded?.add(id);
      encode(rec);
      return LOADED;
    },
  };

  function reject(reason: string): Outcome {
    self.reason = reason;
    return REJECTED;
  }

  function encode(rec: CsvRecord): void {
    for (let i = 0; i < width; i++) {
      if (i > 0) out.tab();
      const c = columns[i]!;
      const s = rec.starts[i]!;
      const e = rec.ends[i]!;
      switch (c.type) {
        case 'text':
          out.text(rec.buf, s, e, rec.kinds[i]!);
          break;
        case 'text-or-null':
          if (isNullLiteral(rec, i, false)) out.null();
          else out.text(rec.buf, s, e, rec.kinds[i]!);
          break;
        case 'price-or-null':
          if (isNullLiteral(rec, i, true)) out.null();
          else out.raw(rec.buf, s, e);
          break;
        case 'bool':
          out.ascii(ints[i] === 1 ? 't' : 'f');
          break;
        default:
          out.raw(rec.buf, s, e);
      }
    }
    out.endRow();
  }

  return self;
}
