import { escapeIdentifier, type ClientBase } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { IdSet } from './id-set';

// Above this many ids a change set names, streaming the whole table (about 0.15 s a million
// ids) beats probing the primary key for each (a 100-product change set names about 400).
const PROBE_AT_MOST = 200_000;

/**
 * The live ids of one catalog table (`product` or `styles`: the parents a change set's rows
 * may name) among `among`: probed by primary key when they are few, else the whole table
 * streamed with COPY as text, one id per line, with memory flat (the IdSet is a bitset).
 */
export async function liveIds(client: ClientBase, table: 'product' | 'styles', among: readonly number[]): Promise<IdSet> {
  const ids = new IdSet();
  if (among.length <= PROBE_AT_MOST) {
    if (among.length === 0) return ids;
    const { rows } = await client.query<[number]>({
      text: `SELECT id FROM catalog.${escapeIdentifier(table)} WHERE id = ANY($1::int[])`,
      values: [among],
      rowMode: 'array',
    });
    for (const [id] of rows) ids.add(id);
    return ids;
  }
  const stream = client.query(copyTo(`COPY (SELECT id FROM catalog.${escapeIdentifier(table)}) TO STDOUT`));
  let value = 0;
  for await (const chunk of stream) {
    for (const byte of chunk as Buffer) {
      if (byte === 0x0a) {
        ids.add(value);
        value = 0;
      } else value = value * 10 + (byte - 0x30);
    }
  }
  return ids;
}
