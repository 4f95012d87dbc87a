/**
 * A set of non-negative int32 ids: a growable bitset for ids below 2^27 (at most 16 MiB,
 * 1.4 MB for the 11.3M skus of the full export) and a Set for the rare larger ones, so a
 * stray id of 2,000,000,000 costs one Set entry, not 250 MB of bits.
 */
const BITSET_LIMIT = 1 << 27;

export class IdSet {
  private words = new Uint32Array(1024);
  private readonly large = new Set<number>();

  has(id: number): boolean {
    if (id >= BITSET_LIMIT) return this.large.has(id);
    const w = id >>> 5;
    return w < this.words.length && (this.words[w]! & (1 << (id & 31))) !== 0;
  }

  /** Adds `id`; false when it was already present. */
  add(id: number): boolean {
    if (id >= BITSET_LIMIT) {
      if (this.large.has(id)) return false;
      this.large.add(id);
      return true;
    }
    const w = id >>> 5;
    if (w >= this.words.length) this.grow(w);
    const bit = 1 << (id & 31);
    const word = this.words[w]!;
    if ((word & bit) !== 0) return false;
    this.words[w] = word | bit;
    return true;
  }

  /** Removes `id` (a change set's deletions leave the live ids children may name). */
  delete(id: number): void {
    if (id >= BITSET_LIMIT) {
      this.large.delete(id);
      return;
    }
    const w = id >>> 5;
    if (w < this.words.length) this.words[w] = this.words[w]! & ~(1 << (id & 31));
  }

  private grow(word: number): void {
    let size = this.words.length;
    while (size <= word) size *= 2;
    const next = new Uint32Array(size);
    next.set(this.words);
    this.words = next;
  }
}
