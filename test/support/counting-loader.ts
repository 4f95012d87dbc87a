import type { Loader } from '../../src/catalog/cache';

/** A cache loader that records every key it is asked for, in order, then answers with `fn`. */
export function countingLoader(fn: Loader): Loader & { calls: string[] } {
  const calls: string[] = [];
  const load = (async (key: string) => {
    calls.push(key);
    return fn(key);
  }) as Loader & { calls: string[] };
  load.calls = calls;
  return load;
}
