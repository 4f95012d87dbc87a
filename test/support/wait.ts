import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/**
 * Polls `check` every 20 ms until it holds; fails after `ms` saying what it waited for.
 * A liveness bound for tests, never a timing assertion.
 */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await sleep(20);
  }
}
