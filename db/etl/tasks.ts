import type pg from 'pg';

export interface Task {
  name: string;
  /** Names of tasks that must have finished first. */
  after?: readonly string[];
  run(client: pg.ClientBase): Promise<void>;
}

/**
 * Runs `tasks` on the given connections, one task per connection at a time, in list order
 * among the tasks whose prerequisites are done. The first failure stops new tasks from
 * starting and is rethrown once the running ones have settled.
 */
export async function runTasks(clients: readonly pg.ClientBase[], tasks: readonly Task[]): Promise<void> {
  const done = new Set<string>();
  const started = new Set<string>();
  let running = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const changed = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const next = (): Task | undefined =>
    tasks.find((t) => !started.has(t.name) && (t.after ?? []).every((d) => done.has(d)));

  const worker = async (client: pg.ClientBase): Promise<void> => {
    while (failure === undefined && started.size < tasks.length) {
      const task = next();
      if (task === undefined) {
        if (running === 0) return;
        // Waits until some running task finishes and may unlock another.
        await new Promise<void>((resolve) => {
          const prev = wake;
          wake = () => {
            prev?.();
            resolve();
          };
        });
        continue;
      }
      started.add(task.name);
      running++;
      try {
        await task.run(client);
        done.add(task.name);
      } catch (err) {
        failure ??= err;
      } finally {
        running--;
        changed();
      }
    }
  };

  for (const t of tasks) {
    for (const d of t.after ?? []) {
      if (!tasks.some((x) => x.name === d)) throw new Error(`task ${t.name} waits for unknown task ${d}`);
    }
  }
  await Promise.all(clients.map(worker));
  if (failure !== undefined) throw failure;
  if (done.size < tasks.length) throw new Error('tasks left unfinished (circular prerequisites?)');
}
