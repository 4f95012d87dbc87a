import path from 'node:path';
import { openCsvWriter, type CsvWriter } from '../etl/csv-writer';
import { FILES, headerOf } from '../etl/files';
import { createRandom, type Random } from './prng';

/** Children per parent in the full export (e.g. 2,219,279 features / 1,000,011 products). */
export const PROPORTIONS = { features: 2.2193, styles: 1.9581, related: 4.5082, photos: 2.8884, skus: 5.7831 };

export type Outs = Record<'product' | 'features' | 'styles' | 'photos' | 'skus' | 'related', CsvWriter>;

/** What every row writer shares: the one random sequence, the outputs, the id counters. */
export interface GenContext {
  r: Random;
  /** Products generated (ids 1..n). */
  n: number;
  outs: Outs;
  /** Last id written per file. */
  ids: { feature: number; style: number; photo: number; sku: number; related: number };
  /** Which of `kinds` defects a row gets, or -1 (each kind with the configured rate). */
  defect(kinds: number): number;
  /** Counts one injected defect of `kind`. */
  count(kind: string): void;
  defects: Record<string, number>;
}

/** Opens the six output files (each with its header line) and starts the random sequence. */
export async function createContext(opts: { out: string; products: number; seed: number; defectRate: number }): Promise<GenContext> {
  const r = createRandom(opts.seed);
  const defects: Record<string, number> = {};
  const opened = await Promise.allSettled(FILES.map((f) => openCsvWriter(path.join(opts.out, f.file), headerOf(f))));
  const writers = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failed = opened.find((o) => o.status === 'rejected');
  if (failed) {
    // Close the files that did open: a failed generation leaves no open descriptor behind.
    await Promise.all(writers.map((w) => w.close().catch(() => undefined)));
    throw failed.reason;
  }
  const outs = Object.fromEntries(FILES.map((f, i) => [f.table, writers[i]])) as Outs;
  return {
    r,
    n: opts.products,
    outs,
    ids: { feature: 0, style: 0, photo: 0, sku: 0, related: 0 },
    defect: (kinds) => {
      const u = r.next() / opts.defectRate;
      return u < kinds ? Math.floor(u) : -1;
    },
    count: (kind) => void (defects[kind] = (defects[kind] ?? 0) + 1),
    defects,
  };
}
