import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { childPids, freePort, waitForOk } from '../../src/fleet/process';

const SERVER = path.resolve(__dirname, '../../dist/src/server.js');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** PIDs of the primary's live worker processes. */
  workerPids: () => number[];
  stop(): Promise<void>;
}

/** Runs the built service (`npm run build` first) as a real process tree on free ports. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    child,
    url,
    port,
    output: () => out,
    exited,
    workerPids: () => childPids(child.pid!),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  try {
    await waitForOk(`${url}/healthz`, 20_000, () => (child.exitCode !== null ? `server exited early (${child.exitCode})` : undefined));
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}:\n${out}`);
  }
  return server;
}
