import { execFileSync } from 'node:child_process';
import { projectRoot } from '../../src/project-paths';
import type { BenchRunInfo, ReportContext } from './report';

/** The checkout's `git describe --always --dirty` (read only), or "unknown" outside a git checkout. */
export function commitOf(dir = projectRoot()): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** What the HTML report's header says about a bench run: the table's context, the commit, the time, the settings. */
export function runInfo(
  ctx: ReportContext,
  settings: Record<string, string | number | undefined>,
  now = new Date(),
): BenchRunInfo {
  const kept = Object.fromEntries(
    Object.entries(settings).filter((entry): entry is [string, string | number] => entry[1] !== undefined),
  );
  return { ...ctx, commit: commitOf(), date: now.toISOString(), settings: kept };
}
