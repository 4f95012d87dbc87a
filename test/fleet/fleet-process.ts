import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const FLEET_CLI = path.resolve(__dirname, '../../dist/src/fleet/cli.js');

export interface FleetInstanceInfo {
  index: number;
  url: string;
  port: number;
  pid: number;
}

/** `node dist/src/fleet/cli.js …` as a real child process, with its output parsed. */
export interface FleetProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output (seen before or after the call). */
  waitFor(pattern: RegExp, ms: number): Promise<RegExpMatchArray>;
  /** The instances as printed when the fleet became ready. */
  instances(): FleetInstanceInfo[];
  url(): string;
  /** Every process the fleet printed as started: its instances and nginx. */
  pids(): number[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait (SIGKILL after 30 s): used by after hooks. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function assertBuilt(): void {
  if (!fs.existsSync(FLEET_CLI)) throw new Error(`${FLEET_CLI} is missing: run npm run build first`);
}

export function startFleetProcess(args: string[], env: Record<string, string>): FleetProcess {
  const child = spawn(process.execPath, [FLEET_CLI, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    }),
  );

  const waitFor = (pattern: RegExp, ms: number): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = out.match(pattern);
        if (match) return finish(() => resolve(match));
        if (child.exitCode !== null || child.signalCode !== null) {
          finish(() => reject(new Error(`fleet exited before printing ${pattern}:\n${out}`)));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`fleet did not print ${pattern} within ${ms} ms:\n${out}`))), ms);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const instances = (): FleetInstanceInfo[] =>
    [...out.matchAll(/^fleet: instance (\d+) (http:\/\/127\.0\.0\.1:(\d+)) \(pid (\d+),/gm)].map((m) => ({
      index: Number(m[1]),
      url: m[2]!,
      port: Number(m[3]),
      pid: Number(m[4]),
    }));
  return {
    child,
    output: () => out,
    waitFor,
    instances,
    pids: () => {
      const nginx = out.match(/^fleet: nginx \S+ \(pid (\d+)\)/m)?.[1];
      return [...instances().map((i) => i.pid), ...(nginx === undefined ? [] : [Number(nginx)])];
    },
    url: () => out.match(/^fleet: ready: (\S+)/m)?.[1] ?? '',
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
