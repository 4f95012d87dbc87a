import fs from 'node:fs';
import type { BenchFile } from '../context';
import type { Row } from '../report';
import { benchReportData } from './data';
import { renderHtml } from './render';

/** Writes the HTML report of a bench run's rows (as --json has them) to `file`. */
export function writeHtmlReport(file: string, rows: readonly Row[], scenarios: Pick<BenchFile, 'pageViews'>): void {
  fs.writeFileSync(file, renderHtml(benchReportData(rows, scenarios.pageViews)));
}
