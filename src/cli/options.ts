/**
 * Option values of the command-line tools (etl, data:generate, bench:etl, bench, fleet), as
 * `node:util` parseArgs hands them over: strings, checked here into numbers with one wording.
 */

/** Raised for a bad command line; the message is for the operator as is. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--name`'s value as an integer in [min, max]; `fallback` when the option was not given. */
export function intOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

/** `--name`'s value as a number in [min, max] (decimals allowed); `fallback` when not given. */
export function numberOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}
