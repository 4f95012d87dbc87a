/**
 * What a notification on the catalog channel (live-catalog.ts CATALOG_CHANNEL) tells the
 * workers. Payloads:
 * - `"<version>"`: a new catalog (a load, a refresh): every cached document goes;
 * - `"<version> <key>,<key>,…"`: a change set rebuilt these documents (cache keys:
 *   `p<id>`, `s<id>`, `r<id>`, and `l` for every listing page): only they go;
 * - `"<version> @"`: the same, with keys too many for a payload: they are in
 *   `catalog.catalog_changes` under that version.
 * Anything else (the listener's own "reconnected" notice) clears everything.
 */
export type CatalogNotice =
  | { kind: 'catalog'; version: string }
  | { kind: 'changes'; version: string; keys: string[] }
  | { kind: 'changes-stored'; version: number };

// PostgreSQL refuses payloads of 8000 bytes or more.
export const MAX_PAYLOAD_BYTES = 7999;
const KEY = /^(?:[psr]\d+|l)$/;

/** The payload announcing a change set's keys, or the stored marker when they do not fit. */
export function changesPayload(version: number, keys: readonly string[]): string {
  const payload = `${version} ${keys.join(',')}`;
  return Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES ? payload : `${version} @`;
}

export function parseCatalogNotice(payload: string): CatalogNotice {
  const space = payload.indexOf(' ');
  if (space === -1 || !/^\d+$/.test(payload.slice(0, space))) return { kind: 'catalog', version: payload };
  const version = payload.slice(0, space);
  const rest = payload.slice(space + 1);
  if (rest === '@') return { kind: 'changes-stored', version: Number(version) };
  const keys = rest.split(',');
  // Not ours after all: the safe reading is "everything changed".
  if (!keys.every((k) => KEY.test(k))) return { kind: 'catalog', version: payload };
  return { kind: 'changes', version, keys };
}
