/**
 * What the HTML report shows, built from the bench's rows (the --json file's) or from a k6
 * run's rows (k6-json.ts): the run's header, the table of targets, and one section per
 * scenario with its baseline beside it. Embedded in the page as JSON; the page's script
 * (page.js) draws the charts from it and nothing else.
 */
import type { PageViewModels } from '../../lib/page-views';
import type { BenchRunInfo, Row } from '../report';

export interface ReportSection {
  title: string;
  /** Indices into the report's rows: the scenario's, its baseline's first when it has one. */
  rows: number[];
}

export interface ReportData {
  title: string;
  /** Who measured the rows. */
  source: 'bench' | 'k6';
  run?: BenchRunInfo;
  /** Every row, in the bench's order: the table of targets. */
  rows: Row[];
  sections: ReportSection[];
  /** The definitions the rows came from (scenarios.json): page-view models, and the k6 scenarios of a k6 run. */
  definitions: { pageViews?: PageViewModels; k6Scenarios?: Record<string, unknown> };
}

// Scenarios compared with a baseline row measured elsewhere in the run: its name's start.
const BASELINE_OF: ReadonlyArray<readonly [scenario: string, baseline: string]> = [
  ['cold styles', 'baseline (styles):'],
  ['cold:', 'baseline:'],
  ['database', 'baseline (styles):'],
];

/** The part of a row's name before its first colon: rows sharing it are one scenario. */
export function scenarioKey(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(0, colon);
}

/**
 * Sections: a baseline row with the service row after it (the hot scenarios), rows sharing
 * a name's start (overload, listing, at rate), and the cold ones with the baseline they are
 * compared with.
 */
export function sectionsOf(rows: readonly Row[]): ReportSection[] {
  const sections: ReportSection[] = [];
  const name = (i: number): string => rows[i]!.scenario;
  for (let i = 0; i < rows.length; i++) {
    const next = rows[i + 1];
    if (name(i).startsWith('baseline') && next !== undefined && !next.scenario.startsWith('baseline')) {
      sections.push({ title: scenarioKey(next.scenario), rows: [i, i + 1] });
      i++;
      continue;
    }
    const key = scenarioKey(name(i));
    const last = sections[sections.length - 1];
    if (last !== undefined && last.title === key && !last.rows.some((r) => name(r).startsWith('baseline'))) {
      last.rows.push(i);
      continue;
    }
    const baselineName = BASELINE_OF.find(([scenario]) => name(i).startsWith(scenario))?.[1];
    const baseline = baselineName === undefined ? -1 : rows.findIndex((r) => r.scenario.startsWith(baselineName));
    sections.push({ title: key, rows: baseline >= 0 ? [baseline, i] : [i] });
  }
  return sections;
}

/** The report of a bench run (rows as --json writes them: each carries its run's context). */
export function benchReportData(rows: readonly Row[], pageViews?: PageViewModels): ReportData {
  const run = rows.find((r) => r.run)?.run;
  return {
    title: `Atelier Products stress report${run ? ` — ${run.commit}, ${run.date.slice(0, 10)}` : ''}`,
    source: 'bench',
    ...(run && { run }),
    // The run's context once, in the header, not in every row.
    rows: rows.map(({ run: _run, ...row }) => row),
    sections: sectionsOf(rows),
    definitions: pageViews ? { pageViews } : {},
  };
}
