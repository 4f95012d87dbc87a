/**
 * A set of non-negative int32 ids. Few ids (a change set's hundreds) live in a Set; past
 * SPARSE_MAX it becomes a growable bitset for ids below 2^27 (at most 16 MiB, 1.4 MB for the
 * 11.3M skus of the full export), with a Set for the rare larger ones, so a stray id of
 * 2,000,000,000 costs one Set entry, not 250 MB of bits. Starting sparse spares a change set
 * the bitset a sku id of 11M needs (1.4 MB, grown by doubling) for a thousand ids.
 */
const BITSET_LIMIT = 1 << 27;
// Ids held in the Set before the bitset takes over: a Set costs about 40 bytes an id, the bitset 1 bit an id below its largest.
const SPARSE_MAX = 4096;

export class IdSet {
  private words: Uint32Array | undefined;
  private readonly large = new Set<number>();

  has(id: number): boolean {
    if (id >= BITSET_LIMIT || this.words === undefined) return this.large.has(id);
    const w = id >>> 5;
    return w < this.words.length && (this.words[w]! & (1 << (id & 31))) !== 0;
  }

  /** Adds `id`; false when it was already present. */
  add(id: number): boolean {
    if (id >= BITSET_LIMIT || this.words === undefined) {
      if (this.large.has(id)) return false;
      this.large.add(id);
      if (this.words === undefined && this.large.size > SPARSE_MAX) this.densify();
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
    if (id >= BITSET_LIMIT || this.words === undefined) {
      this.large.delete(id);
      return;
    }
    const w = id >>> 5;
    if (w < this.words.length) this.words[w] = this.words[w]! & ~(1 << (id & 31));
  }

  /** Moves the Set's ids below BITSET_LIMIT into a bitset sized for the largest. */
  private densify(): void {
    let max = 0;
    for (const id of this.large) if (id < BITSET_LIMIT && id > max) max = id;
    this.words = new Uint32Array(1024);
    this.grow(max >>> 5);
    // Deleting the entry being visited is safe: a Set's iterator skips only removed entries not yet reached.
    for (const id of this.large) {
      if (id >= BITSET_LIMIT) continue;
      this.large.delete(id);
      this.words[id >>> 5] = this.words[id >>> 5]! | (1 << (id & 31));
    }
  }

  private grow(word: number): void {
    const words = this.words!;
    let size = words.length;
    while (size <= word) size *= 2;
    if (size === words.length) return;
    const next = new Uint32Array(size);
    next.set(words);
    this.words = next;
  }
}
