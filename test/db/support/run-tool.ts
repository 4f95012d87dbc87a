import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');

export interface ToolRun {
  child: ChildProcess;
  /** Settles when the process has exited and its output is drained; `code` is null when it was killed. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Runs `script` (a path from the project root, e.g. db/etl.ts) through tsx, so no build is
 * needed, with `env` over this process's environment; collects its output.
 */
export function runTool(script: string, args: string[], env: NodeJS.ProcessEnv): ToolRun {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}
