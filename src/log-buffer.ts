import fs from 'node:fs';

/** A pino destination: lines are gathered and written together. */
export interface LineBuffer {
  write(line: string): boolean;
  /** Writes what is gathered now; `done` runs after. */
  flush(done?: (err?: Error) => void): void;
}

// Room beyond `minBytes` in the buffer, in bytes: a line of up to a third of it (UTF-8 takes at
// most 3 bytes per UTF-16 code unit) is always copied in; a longer one is written on its own.
const SLACK_BYTES = 8192;

/**
 * Gathers lines and writes them to `fd` with one write(2) once `minBytes` are gathered,
 * synchronously. pino's own destination (sonic-boom) re-measures its whole pending string on
 * every line, which flattens it: a 4 KiB buffer cost about 2 KiB of copying per request line.
 * Here each line is encoded once into one buffer allocated up front, so a line costs one copy
 * and no garbage (`npm run bench:parts` times both against sonic-boom).
 *
 * When `fd` is a full non-blocking pipe the writer waits for the reader (1 ms at a time):
 * a stalled log reader slows the process instead of growing its memory without bound. Any
 * other write error (the reader is gone) drops the lines: logging never fails a request.
 */
export function createLineBuffer(fd: number, minBytes: number): LineBuffer {
  const buffer = Buffer.allocUnsafe(minBytes + SLACK_BYTES);
  // Bytes of `buffer` holding gathered lines.
  let used = 0;
  let sleeper: Int32Array | undefined;

  const writeAll = (bytes: Buffer, length: number): void => {
    let offset = 0;
    while (offset < length) {
      try {
        offset += fs.writeSync(fd, bytes, offset, length - offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        sleeper ??= new Int32Array(new SharedArrayBuffer(4));
        Atomics.wait(sleeper, 0, 0, 1);
      }
    }
  };

  /** Writes `bytes`, or reports why not: a failed write loses them, never throws. */
  const send = (bytes: Buffer, length: number): Error | undefined => {
    try {
      writeAll(bytes, length);
      return undefined;
    } catch (err) {
      return err as Error;
    }
  };

  const flushGathered = (): Error | undefined => {
    if (used === 0) return undefined;
    const length = used;
    used = 0;
    return send(buffer, length);
  };

  return {
    write(line) {
      if (line.length * 3 > buffer.length - used) {
        flushGathered();
        if (line.length * 3 > buffer.length) {
          const bytes = Buffer.from(line);
          send(bytes, bytes.length);
          return true;
        }
      }
      used += buffer.write(line, used);
      if (used >= minBytes) flushGathered();
      return true;
    },
    flush(done) {
      const failure = flushGathered();
      done?.(failure);
    },
  };
}
