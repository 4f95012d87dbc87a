import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** PIDs of the live children of `pid` (a service primary's workers), by pgrep. */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Sends `signal` to a whole process group (a detached child and its children); ignores a gone group. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One GET without keep-alive; resolves with the status, or undefined when nothing answered. */
function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const onResponse = (res: http.IncomingMessage): void => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    };
    // https: a process this tool started, on loopback, is asked whether it is up; its
    // certificate may be self-signed or name the public host, and no secret is sent.
    const req = url.startsWith('https:')
      ? https.get(url, { agent: false, timeout: 2_000, rejectUnauthorized: false }, onResponse)
      : http.get(url, { agent: false, timeout: 2_000 }, onResponse);
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/**
 * Polls `url` every 100 ms until it answers 200. Rejects after `timeoutMs`, or as soon as
 * `failed()` returns a reason (the process being waited for has exited).
 */
export async function waitForOk(url: string, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await probe(url)) === 200) return;
    const reason = failed();
    if (reason !== undefined) throw new Error(reason);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}
