/**
 * What a notification on the catalog channel (live-catalog.ts CATALOG_CHANNEL) tells the
 * workers. Payloads:
 * - `"<version>"`: a new catalog (a load, a refresh): every cached document goes;
 * - `"<version> <key>,<key>,…"`: a change set, or a full load compared with the catalog it
 *   replaced (db/etl/reload-diff.ts), changed these documents (none when empty; cache keys:
 *   `p<id>`, `s<id>`, `r<id>`) and changed these positions of the listing (`l<p>` one
 *   position, `l<a>-<b>` positions a to b; `l` alone, as earlier versions wrote it, every
 *   position): only they, and the pages holding those positions, go;
 * - `"<version> @"`: the same, with keys too many for a payload: they are in
 *   `catalog.catalog_changes` (a change set) or `catalog.catalog_load_keys` (a load) under
 *   that version.
 * Anything else (the listener's own MISSED, after a reconnect that may have missed a notice) clears everything.
 */
export type CatalogNotice =
  | { kind: 'catalog'; version: string }
  | { kind: 'changes'; version: string; keys: string[] }
  | { kind: 'changes-stored'; version: number };

// PostgreSQL refuses payloads of 8000 bytes or more.
export const MAX_PAYLOAD_BYTES = 7999;
const KEY = /^(?:[psr]\d+|l(?:\d+(?:-\d+)?)?)$/;

/** Listing positions (1-based, inclusive) whose entries a change set changed. */
export interface ListChange {
  from: number;
  to: number;
}

/** The key naming positions `from` to `to` of the listing. */
export const listChangeKey = ({ from, to }: ListChange): string => (from === to ? `l${from}` : `l${from}-${to}`);

/** Ranges sorted and merged: overlapping or adjacent ones become one (one key, one binary search). */
export function mergeListChanges(changes: readonly ListChange[]): ListChange[] {
  const merged: ListChange[] = [];
  for (const c of [...changes].sort((a, b) => a.from - b.from)) {
    const last = merged.at(-1);
    if (last !== undefined && c.from <= last.to + 1) last.to = Math.max(last.to, c.to);
    else merged.push({ ...c });
  }
  return merged;
}

/** The positions a listing key names: 'all' for `l` (and for anything unreadable: the safe reading). */
export function parseListChange(key: string): ListChange | 'all' {
  const m = /^l(\d+)(?:-(\d+))?$/.exec(key);
  if (m === null) return 'all';
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return to >= from ? { from, to } : 'all';
}

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
  // A reload of an unchanged export (or a change set that changed nothing): nothing to drop.
  if (rest === '') return { kind: 'changes', version, keys: [] };
  const keys = rest.split(',');
  // Not ours after all: the safe reading is "everything changed".
  if (!keys.every((k) => KEY.test(k))) return { kind: 'catalog', version: payload };
  return { kind: 'changes', version, keys };
}
