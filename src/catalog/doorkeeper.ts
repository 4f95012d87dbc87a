/**
 * Which documents have been asked for recently, so a full cache keeps only those that come back
 * (CACHE_ADMIT_AFTER=2): traffic that asks for each document once (a crawl, uniform cold
 * traffic, a never-repeating stream) then costs no cache insertion, no eviction of a document
 * that does come back, and no old-generation garbage for the collector. Measured before it
 * existed, with a throwaway build that never cached styles documents (not kept): cold styles
 * 8,914 / 8,305 req/s against 7,950 / 7,482 with every miss cached, 109–118 against 132–135
 * µs of worker CPU a request (`npm run bench -- --scenarios cold-styles`, two interleaved
 * pairs, 2026-12-07). What this build does: README Performance, "The doorkeeper".
 *
 * Two Bloom filters (3 probes, 16 bits a key or more: under 2 % false positives when full,
 * test/catalog/doorkeeper.test.ts) taking
 * turns: keys are recorded in the current one; when it holds `capacity` keys the older one is
 * emptied and becomes current. A key is remembered for between `capacity` and 2 × `capacity`
 * recordings of other keys. A false positive admits a document at its first request: the cache
 * as it was without a doorkeeper, never a wrong answer.
 */
export interface Doorkeeper {
  /** Whether `key` was recorded in the window; records it. */
  seen(key: string): boolean;
  /** Records `key` (a document that was cached: it comes back in at its next request). */
  remember(key: string): void;
  /** Bytes the filters hold. */
  readonly bytes: number;
}

const BITS_PER_KEY = 16;
const PROBES = 3;

// FNV-1a over the key's UTF-16 code units (keys are short ASCII: a letter and an id or page).
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// A second, independent-enough hash from the first (murmur3's finaliser), odd so that the
// probes h1 + i·h2 never all fall on one bit.
function rehash(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) | 1) >>> 0;
}

export function createDoorkeeper(capacity: number): Doorkeeper {
  const keys = Math.max(1, Math.floor(capacity));
  // A power of two of bits, so a probe is a mask.
  const bits = 2 ** Math.ceil(Math.log2(keys * BITS_PER_KEY));
  const mask = bits - 1;
  let current = new Uint32Array(bits / 32);
  let older = new Uint32Array(bits / 32);
  let recorded = 0;

  const has = (filter: Uint32Array, h1: number, h2: number): boolean => {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) & mask;
      if ((filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  };

  const record = (h1: number, h2: number): void => {
    if (has(current, h1, h2)) return;
    if (recorded >= keys) {
      [current, older] = [older, current];
      current.fill(0);
      recorded = 0;
    }
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) & mask;
      current[bit >>> 5] = current[bit >>> 5]! | (1 << (bit & 31));
    }
    recorded++;
  };

  const seen = (key: string): boolean => {
    const h1 = hash(key);
    const h2 = rehash(h1);
    const found = has(current, h1, h2) || has(older, h1, h2);
    record(h1, h2);
    return found;
  };

  return {
    seen,
    remember: (key) => void seen(key),
    bytes: 2 * (bits / 8),
  };
}
