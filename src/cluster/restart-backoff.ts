/**
 * When to restart a supervised process that died (a cluster worker, a fleet instance): at
 * once or after a short pause when it had run healthily, and with an exponentially growing
 * pause while it keeps dying soon after starting (a crash loop), so a broken deployment does
 * not burn the machine restarting it.
 */
export interface RestartBackoffOptions {
  /** A process that dies within this long of starting counts as a crash-loop step, in ms. */
  healthyAfterMs: number;
  /** Delay after the death of a process that had run healthily (no crash loop), in ms. */
  afterHealthyMs: number;
  /** Delay after the first quick death, doubled for every further one in a row, in ms. */
  baseDelayMs: number;
  /** Longest delay, however long the crash loop, in ms. */
  maxDelayMs: number;
}

export interface RestartBackoff {
  /** Records a death after `livedMs` of running; returns how long to wait before the restart, in ms. */
  died(livedMs: number): number;
  /** Quick deaths in a row so far (0 after a healthy run). */
  quickDeaths(): number;
}

/** A backoff for one supervised process (or one pool of them: the deaths are counted together). */
export function createRestartBackoff(opts: RestartBackoffOptions): RestartBackoff {
  let quickDeaths = 0;
  return {
    died(livedMs) {
      quickDeaths = livedMs < opts.healthyAfterMs ? quickDeaths + 1 : 0;
      if (quickDeaths === 0) return opts.afterHealthyMs;
      return Math.min(opts.baseDelayMs * 2 ** (quickDeaths - 1), opts.maxDelayMs);
    },
    quickDeaths: () => quickDeaths,
  };
}
