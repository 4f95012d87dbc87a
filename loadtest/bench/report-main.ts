/**
 * `npm run bench:report -- FILE [--out FILE.html]`: the HTML report of a bench run's --json
 * file, or of a k6 run's `--out json=FILE` output (told apart by the first character: a bench
 * file is one JSON array, k6's are JSON lines). Writes FILE with .html (or --out) and says where.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../src/cli/options';
import { projectRoot } from '../../src/project-paths';
import type { BenchFile } from './context';
import { benchReportData, type ReportData } from './html/data';
import { k6ReportData } from './html/k6-json';
import { renderHtml } from './html/render';
import type { Row } from './report';

const USAGE =
  'usage: npm run bench:report -- FILE [--out FILE.html]\n  FILE: the rows of npm run bench -- --json FILE, or the output of k6 run --out json=FILE';

/** The report data of `text`: a bench --json file or k6 JSON lines. */
export function reportDataOf(text: string, file: BenchFile, source: string): ReportData {
  return text.trimStart().startsWith('[')
    ? benchReportData(JSON.parse(text) as Row[], file.pageViews)
    : k6ReportData(text, file, source);
}

/** Parses argv; returns the input and the output files. Throws UsageError. */
export function parseReportArgs(argv: readonly string[]): { input: string; out: string } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { out: { type: 'string' } }, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [input, ...rest] = parsed.positionals;
  if (input === undefined || rest.length > 0) throw new UsageError('name one input file');
  return { input, out: parsed.values.out ?? input.replace(/(\.jsonl?|\.json)?$/, '.html') };
}

function main(): void {
  let args: { input: string; out: string };
  try {
    args = parseReportArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench:report: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const file = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'loadtest/scenarios.json'), 'utf8')) as BenchFile;
  const data = reportDataOf(fs.readFileSync(args.input, 'utf8'), file, path.basename(args.input));
  fs.writeFileSync(args.out, renderHtml(data));
  process.stdout.write(`${args.out}: ${data.rows.length} rows, ${data.sections.length} sections\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`bench:report failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
