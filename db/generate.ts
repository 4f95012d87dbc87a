import path from 'node:path';
import { parseArgs } from 'node:util';
import { intOption, numberOption } from '../src/cli/options';
import { generateCatalog } from './generate/catalog';
import { formatBytes, formatCount, formatDuration } from './etl/format';

const USAGE = `usage: npm run data:generate -- [--out DIR] [--products N] [--seed S] [--defect-rate R]
  --out          output folder (default .data/csv)
  --products     number of products (default 1000011, the full export)
  --seed         PRNG seed: the same seed writes the same bytes (default 1)
  --defect-rate  rate of each defect kind per eligible row (default 0.0005)`;

/** `npm run data:generate`: writes a synthetic Atelier CSV export. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      products: { type: 'string' },
      seed: { type: 'string' },
      'defect-rate': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const out = path.resolve(values.out ?? path.join('.data', 'csv'));
  const products = intOption('products', values.products, 1_000_011, 1, 50_000_000);
  const seed = intOption('seed', values.seed, 1, 0, 2 ** 32 - 1);
  const defectRate = numberOption('defect-rate', values['defect-rate'], 0.0005, 0, 0.05);

  const started = Date.now();
  let lastReport = started;
  const result = await generateCatalog({
    out,
    products,
    seed,
    defectRate,
    onProgress: (done) => {
      const now = Date.now();
      if (now - lastReport < 5000) return;
      lastReport = now;
      const rate = done / ((now - started) / 1000);
      process.stderr.write(
        `generated ${formatCount(done)} of ${formatCount(products)} products (${formatCount(rate)}/s, ETA ${formatDuration(((products - done) / rate) * 1000)})\n`,
      );
    },
  });
  const ms = Date.now() - started;
  const rows = Object.values(result.records).reduce((a, b) => a + b, 0);
  const lines = [
    `wrote ${formatCount(rows)} records (${formatBytes(result.bytes)}) to ${out} in ${formatDuration(ms)} (${formatCount(rows / (ms / 1000))} rows/s)`,
    ...Object.entries(result.records).map(([file, n]) => `  ${file.padEnd(13)} ${formatCount(n).padStart(12)}`),
    'defects injected:',
    ...Object.entries(result.defects)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]) => `  ${kind.padEnd(44)} ${formatCount(n).padStart(8)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`data:generate failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
