import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

export interface Release {
  tarball: string;
  sha256: string;
  version: string;
}

/** `npm run package` of HEAD (the committed code, not the work tree) into `out`. */
export async function packageRelease(out: string): Promise<Release> {
  const { stdout } = await run('bash', [path.join(ROOT, 'deploy', 'package.sh'), '--out', out], { cwd: ROOT, maxBuffer: 1 << 24 });
  const tarball = stdout.trim().split('\n').at(-1) ?? '';
  const sha256 = fs.readFileSync(`${tarball}.sha256`, 'utf8').split(' ')[0] ?? '';
  const version = /^atelier-products-(.+)\.tar\.gz$/.exec(path.basename(tarball))?.[1] ?? '';
  return { tarball, sha256, version };
}

let shared: Promise<Release> | undefined;

/** One package of HEAD per test run, shared by the suites that install it (about 20 s). */
export function sharedRelease(): Promise<Release> {
  shared ??= packageRelease(fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-release-')));
  return shared;
}

/** deploy/install-release.sh into `root` (ATELIER_ROOT); returns the version it printed. */
export async function installRelease(root: string, release: Release): Promise<string> {
  const { stdout } = await run('bash', [path.join(ROOT, 'deploy', 'install-release.sh'), release.tarball, release.sha256], {
    env: { ...process.env, ATELIER_ROOT: root },
  });
  return stdout.trim().split('\n').at(-1) ?? '';
}

/** A folder every user can traverse (mkdtemp makes 0700 ones; the service runs as `atelier`). */
export function openTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}
