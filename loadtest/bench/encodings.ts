/**
 * What the service says it sent, by content coding: its counters
 * `atelier_http_response_bytes_total{encoding}` (document body bytes sent) and
 * `atelier_http_response_uncompressed_bytes_total{encoding}` (the identity size of those
 * same bodies), read from its Prometheus text. The compressed scenario's warm-up uses them
 * to see that the responses are compressed, and its row says how much of them was.
 */

export const ENCODINGS = ['br', 'gzip', 'identity'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** Cumulative body bytes by coding, in bytes: as sent, and their identity size. */
export interface EncodingBytes {
  sent: Record<Encoding, number>;
  uncompressed: Record<Encoding, number>;
}

const SENT = 'atelier_http_response_bytes_total';
const UNCOMPRESSED = 'atelier_http_response_uncompressed_bytes_total';

/**
 * Sums a counter's samples by their `encoding` label (other labels, if any, summed over).
 * undefined when the counter has no sample at all: a service without content coding.
 */
function byEncoding(text: string, name: string): Record<Encoding, number> | undefined {
  const sums: Record<Encoding, number> = { br: 0, gzip: 0, identity: 0 };
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = /^[^{]+\{([^}]*)\}\s+(\S+)/.exec(line);
    const encoding = m && /(?:^|,)encoding="([^"]*)"/.exec(m[1]!)?.[1];
    const value = Number(m?.[2]);
    if (!encoding || !(ENCODINGS as readonly string[]).includes(encoding) || !Number.isFinite(value)) continue;
    sums[encoding as Encoding] += value;
    found = true;
  }
  return found ? sums : undefined;
}

/** Both counters from the service's metrics text; undefined unless it exposes both. */
export function parseEncodingBytes(text: string): EncodingBytes | undefined {
  const sent = byEncoding(text, SENT);
  const uncompressed = byEncoding(text, UNCOMPRESSED);
  return sent && uncompressed ? { sent, uncompressed } : undefined;
}

/**
 * Of the document bytes served between two readings (their identity size), the share that
 * went out compressed (br or gzip), from 0 to 1. undefined when either reading is missing or
 * nothing was served in between.
 */
export function compressedShare(before: EncodingBytes | undefined, after: EncodingBytes | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  const delta = (coding: Encoding): number => after.uncompressed[coding] - before.uncompressed[coding];
  const total = delta('br') + delta('gzip') + delta('identity');
  return total > 0 ? (delta('br') + delta('gzip')) / total : undefined;
}

/** Document body bytes sent between two readings, in every coding; undefined when either reading is missing. */
export function documentBytesSent(before: EncodingBytes | undefined, after: EncodingBytes | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  return ENCODINGS.reduce((sum, coding) => sum + after.sent[coding] - before.sent[coding], 0);
}
