/** What the open-model generator is asked for and what it answers (generator.ts, run.ts). */
import type { PercentilePoint } from '../trace';

export interface OpenModelOptions {
  /** The service, e.g. http://127.0.0.1:3000 (loopback only). */
  url: string;
  /** Request paths, one a line (the bench's path lists), sent in order from the first, cycling. */
  pathsFile: string;
  /** Requests per second, all connections together. */
  rate: number;
  /** Length of the measured schedule, in s. */
  durationSeconds: number;
  /** Seconds sent at the rate before it, unrecorded (the generator's compiler and connections settle). */
  warmUpSeconds: number;
  /** Connections opened before the start (k6's preAllocatedVUs). */
  connections: number;
  /** Connections it may open in all (k6's maxVUs). */
  maxConnections: number;
  /** A request sent more than this after its scheduled time was not sent on time, in ms. */
  lateMs: number;
  headers?: Readonly<Record<string, string>>;
}

export interface GeneratorResult {
  /** Requests the schedule held: rate × duration. */
  scheduled: number;
  /** Requests written to a connection, all told. */
  sent: number;
  /** Of those, written within the schedule's duration: the achieved send rate is this over the duration. */
  sentInWindow: number;
  /** Requests sent more than lateMs after their scheduled time (no connection free, or the generator behind). */
  late: number;
  /** Requests never sent (still waiting when the run ended). */
  unsent: number;
  /** Responses received (any status). */
  answered: number;
  /** From the first scheduled send to the last answer, in s. */
  elapsedSeconds: number;
  connectionsOpened: number;
  /** The generator process's own CPU over the run (process.cpuUsage), in cores. */
  generatorCores: number;
  /** Counts per second since the start; generatorCores: the generator's cores per second. */
  perSecond: {
    responses: number[];
    non2xx: number[];
    errors: number[];
    sent: number[];
    late: number[];
    generatorCores: number[];
  };
  /** Latency from the scheduled send (coordinated omission corrected), ms. */
  percentiles: PercentilePoint[];
  /** Latency from the actual send, ms: what a closed-model tool would report for the same requests. */
  sendPercentiles: PercentilePoint[];
}
