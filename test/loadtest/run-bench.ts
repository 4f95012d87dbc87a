import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface ScriptRun {
  code: number | null;
  out: string;
  err: string;
}

/** A TypeScript entry point of the project run as `npm run` runs it (tsx), from the root; its exit code and output. */
export function runTsScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ScriptRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

/** `npm run bench -- ARGS` as the operator runs it (tsx, the built service), against `databaseUrl`, one worker. */
export const runBench = (args: readonly string[], databaseUrl: string): Promise<ScriptRun> =>
  runTsScript('loadtest/bench/main.ts', args, { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, WORKERS: '1' });
