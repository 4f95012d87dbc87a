import type { ChildProcess } from 'node:child_process';
import { childEnv } from '../../src/config';
import { startService, type ExitStatus } from '../../src/fleet/service-process';

// Time the service gets to drain on stop() before SIGKILL, in ms.
const STOP_GRACE_MS = 12_000;
// Time it gets to answer /healthz after the start, in ms.
const READY_TIMEOUT_MS = 20_000;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Its stdout and stderr so far. */
  output: () => string;
  exited: Promise<ExitStatus>;
  /** PIDs of the primary's live worker processes. */
  workerPids: () => number[];
  stop(): Promise<void>;
}

/**
 * Runs the built service (`npm run build` first) as a real process tree on free ports (or
 * the PORT and METRICS_PORT of `env`), with PATH, LOG_LEVEL info and `env` only, its output
 * captured; resolves once /healthz answers.
 */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const { PORT, METRICS_PORT, ...rest } = env;
  const service = await startService({
    env: { PATH: childEnv({}).PATH ?? '', LOG_LEVEL: 'info', ...rest },
    ...(PORT !== undefined && { port: Number(PORT) }),
    ...(METRICS_PORT !== undefined && { metricsPort: Number(METRICS_PORT) }),
    probePath: '/healthz',
    readyTimeoutMs: READY_TIMEOUT_MS,
    stopGraceMs: STOP_GRACE_MS,
  });
  return {
    child: service.child,
    url: service.url,
    port: service.port,
    output: service.output,
    exited: service.exited,
    workerPids: service.workerPids,
    stop: async () => void (await service.stop(STOP_GRACE_MS)),
  };
}
