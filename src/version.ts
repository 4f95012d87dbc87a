import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from './project-paths';

// What `npm run package` writes into VERSION (deploy/package.sh): package version and commit.
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/**
 * The running build's version: a release's `VERSION` file (written by `npm run package`), or
 * `<package.json version>-dev` in a checkout. Reported by /healthz, /readyz, the start log line
 * and `atelier_build_info`, so a rolling deploy can tell which instance runs what.
 */
export function readVersion(root: string = projectRoot()): string {
  let raw: string;
  try {
    raw = fs.readFileSync(path.join(root, 'VERSION'), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return `${typeof pkg.version === 'string' ? pkg.version : '0.0.0'}-dev`;
  }
  if (!VERSION_PATTERN.test(raw)) throw new Error(`${path.join(root, 'VERSION')} does not hold a version (got "${raw.slice(0, 80)}")`);
  return raw;
}
