import { EtlError } from './errors';

/** The campus code of a catalog loaded without `--campus`: the replaced API's own. */
export const DEFAULT_CAMPUS = 'hr-rfp';

// 1 to 64 printable ASCII characters without spaces: the same rule as the CHECK on
// catalog_campus (db/migrations/005_campus.sql), tested here so a load stops before any work.
const CAMPUS = /^[!-~]{1,64}$/;

/** `code` when it is a valid campus code; else an EtlError saying what a code may be. */
export function checkCampus(code: string): string {
  if (!CAMPUS.test(code)) {
    throw new EtlError(`--campus must be 1 to 64 printable ASCII characters without spaces (got ${JSON.stringify(code)})`);
  }
  return code;
}
