import { spawnSync } from 'node:child_process';

/**
 * The one policy for tools a test needs from Debian: absent on a developer's machine, the
 * suite is skipped with a message saying what to install; absent under CI (CI set), it
 * fails, because .ci/run installs them and their absence there is a bug, not a reason to skip.
 * Returns what was found (a path, or whatever `found` is).
 */
export function requireTool<T>(ctx: Mocha.Context, found: T | undefined, what: string, debianPackage: string): T {
  if (found !== undefined) return found;
  const message = `${what} not found: install it with "apt-get install -y ${debianPackage}"`;
  if (process.env.CI) throw new Error(`${message} (CI must provide it: see .ci/run)`);
  console.warn(`      SKIPPED: ${message}`);
  return ctx.skip();
}

/** Absolute path of `name` on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  const res = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = res.stdout.trim();
  return res.status === 0 && found !== '' ? found : undefined;
}

/** The path of binary `name` from Debian package `debianPackage` (see requireTool). */
export function requireBinary(ctx: Mocha.Context, name: string, debianPackage: string): string {
  return requireTool(ctx, findBinary(name), name, debianPackage);
}
