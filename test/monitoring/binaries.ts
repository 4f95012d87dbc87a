import { spawnSync } from 'node:child_process';

/** Absolute path of `name` on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  const res = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = res.stdout.trim();
  return res.status === 0 && found !== '' ? found : undefined;
}

/**
 * The path of a Debian binary a test needs. Absent on a developer's machine: the test is
 * skipped with a message saying what to install. Absent under CI (CI set): the test fails,
 * because .ci/run must have installed it.
 */
export function requireBinary(ctx: Mocha.Context, name: string, debianPackage: string): string {
  const found = findBinary(name);
  if (found !== undefined) return found;
  const message = `${name} not found on PATH: install it with "apt-get install -y ${debianPackage}"`;
  if (process.env.CI) throw new Error(`${message} (CI must provide it: see .ci/run)`);
  console.warn(`      SKIPPED: ${message}`);
  return ctx.skip();
}
