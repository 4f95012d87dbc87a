import { spawnSync } from 'node:child_process';

/**
 * Skips the calling suite when a Debian binary is missing on a developer's machine, with a
 * message saying what to install. Under CI (CI set) a missing binary fails instead: CI
 * installs them (.ci/run), so absence there is a bug, not a reason to skip.
 */
export function requireBinaries(ctx: Mocha.Context, ...names: string[]): void {
  const missing = names.filter((n) => spawnSync('sh', ['-c', `command -v ${n}`]).status !== 0);
  if (missing.length === 0) return;
  const message = `missing ${missing.join(', ')} (apt-get install ${missing.join(' ')})`;
  if (process.env.CI) throw new Error(message);
  console.warn(`      skipped: ${message}`);
  ctx.skip();
}
