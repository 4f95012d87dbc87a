import type { Registry } from 'prom-client';
import type { Snapshot } from './snapshots';

/**
 * The primary/worker metrics protocol, on the cluster IPC channel:
 * - worker -> primary `ready` once its metrics link listens for `collect` (at worker start,
 *   before it serves HTTP; the primary asks only ready workers);
 * - primary -> worker `collect` with a sequence number; the worker answers `snapshot` with
 *   the same number and its registry as JSON (or an error message, which the primary logs);
 * - worker -> primary `snapshot` with `final: true` once it has drained, so requests served
 *   since the last scrape are counted; the primary answers `final-ack` and the worker exits.
 */
export const MSG = {
  ready: 'atelier:metrics:ready',
  collect: 'atelier:metrics:collect',
  snapshot: 'atelier:metrics:snapshot',
  finalAck: 'atelier:metrics:final-ack',
} as const;

export type WorkerToPrimary =
  | { type: typeof MSG.ready }
  | { type: typeof MSG.snapshot; seq: number; final: boolean; metrics?: Snapshot; error?: string };
export type PrimaryToWorker = { type: typeof MSG.collect; seq: number } | { type: typeof MSG.finalAck };

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;

export function isWorkerMessage(m: unknown): m is WorkerToPrimary {
  if (!isObject(m)) return false;
  if (m.type === MSG.ready) return true;
  return (
    m.type === MSG.snapshot &&
    typeof m.seq === 'number' &&
    (m.metrics === undefined || Array.isArray(m.metrics)) &&
    (m.error === undefined || typeof m.error === 'string')
  );
}

export function isPrimaryMessage(m: unknown): m is PrimaryToWorker {
  return isObject(m) && ((m.type === MSG.collect && typeof m.seq === 'number') || m.type === MSG.finalAck);
}

/** The worker's end of the IPC channel (in production: `process` of a cluster worker). */
export interface IpcEndpoint {
  send(message: WorkerToPrimary, callback: (err: Error | null) => void): void;
  onMessage(listener: (message: unknown) => void): void;
  connected(): boolean;
}

/** `process` as an IpcEndpoint; undefined when the process has no IPC channel. */
export function processEndpoint(proc: NodeJS.Process = process): IpcEndpoint | undefined {
  const send = proc.send?.bind(proc);
  if (send === undefined) return undefined;
  return {
    send: (message, callback) => void send(message, undefined, undefined, callback),
    onMessage: (listener) => void proc.on('message', listener),
    connected: () => proc.connected,
  };
}

export interface WorkerMetricsLink {
  /**
   * Sends the final snapshot and waits for the primary's acknowledgement, at most
   * `timeoutMs`. Never rejects: losing a few counts is better than not exiting.
   */
  sendFinal(timeoutMs?: number): Promise<void>;
}

/** Answers the primary's metric requests from `registry` and announces the worker as ready. */
export function linkWorkerMetrics(registry: Registry, ipc: IpcEndpoint): WorkerMetricsLink {
  const ignore = (): void => undefined;
  let acknowledged: (() => void) | undefined;

  const answer = async (seq: number, final: boolean): Promise<void> => {
    let reply: WorkerToPrimary;
    try {
      reply = { type: MSG.snapshot, seq, final, metrics: (await registry.getMetricsAsJSON()) as unknown as Snapshot };
    } catch (err) {
      reply = { type: MSG.snapshot, seq, final, error: err instanceof Error ? err.message : String(err) };
    }
    if (ipc.connected()) ipc.send(reply, ignore);
  };

  ipc.onMessage((message) => {
    if (!isPrimaryMessage(message)) return;
    if (message.type === MSG.collect) void answer(message.seq, false);
    else acknowledged?.();
  });
  if (ipc.connected()) ipc.send({ type: MSG.ready }, ignore);

  return {
    async sendFinal(timeoutMs = 1000) {
      if (!ipc.connected()) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          acknowledged = resolve;
          void answer(0, true);
        }),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    },
  };
}
