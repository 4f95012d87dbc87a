import { AppError } from './errors';

/** Largest value of a PostgreSQL `integer`. */
export const PG_INT_MAX = 2_147_483_647;

/** A product id's spelling: digits, no leading zero, at most 10 (range checked separately). */
export const PRODUCT_ID_DIGITS = '[1-9]\\d{0,9}';
const PRODUCT_ID = new RegExp(`^${PRODUCT_ID_DIGITS}$`);

/** `:product_id`: a positive integer that fits a PostgreSQL integer, digits only. */
export function parseProductId(raw: string | undefined): number {
  if (raw === undefined || !PRODUCT_ID.test(raw) || Number(raw) > PG_INT_MAX) {
    throw new AppError(400, `product_id must be an integer from 1 to ${PG_INT_MAX}`);
  }
  return Number(raw);
}

/**
 * An optional integer query parameter in [min, max]. Absent means `fallback`; present but
 * empty, repeated, signed, fractional or out of range is a 400 naming the parameter.
 */
export function parseIntParam(
  name: string,
  raw: string | string[] | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new AppError(400, `${name} must be an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

/**
 * `count` of a listing: an integer of at least 1; above `max` it is served as `max`, since
 * clients ask for 2000 or 10000 to mean "as many as you give". Absent means `fallback`.
 */
export function parseCount(raw: string | string[] | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new AppError(400, `count must be an integer of at least 1 (a count above ${max} is served as ${max})`);
  }
  return Math.min(Number(raw), max);
}
