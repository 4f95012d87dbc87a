import fs from 'node:fs';

/** A pino destination: lines are gathered and written together. */
export interface LineBuffer {
  write(line: string): boolean;
  /** Writes what is gathered now; `done` runs after. */
  flush(done?: (err?: Error) => void): void;
}

/**
 * Gathers lines and writes them to `fd` with one write(2) per `minBytes`, synchronously.
 * pino's own destination (sonic-boom) re-measures its whole pending string on every line,
 * which flattens it: a 4 KiB buffer cost about 2 KiB of copying per request line. Here a line
 * costs an array push; the join and the UTF-8 copy happen once per write.
 *
 * When `fd` is a full non-blocking pipe the writer waits for the reader (1 ms at a time):
 * a stalled log reader slows the process instead of growing its memory without bound. Any
 * other write error (the reader is gone) drops the lines: logging never fails a request.
 */
export function createLineBuffer(fd: number, minBytes: number): LineBuffer {
  let lines: string[] = [];
  // UTF-16 code units: the same as bytes for the ASCII the service logs, near enough otherwise.
  let pending = 0;
  let sleeper: Int32Array | undefined;

  const writeAll = (bytes: Buffer): void => {
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += fs.writeSync(fd, bytes, offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        sleeper ??= new Int32Array(new SharedArrayBuffer(4));
        Atomics.wait(sleeper, 0, 0, 1);
      }
    }
  };

  return {
    write(line) {
      lines.push(line);
      pending += line.length;
      if (pending >= minBytes) this.flush();
      return true;
    },
    flush(done) {
      let failure: Error | undefined;
      if (lines.length > 0) {
        const text = lines.join('');
        lines = [];
        pending = 0;
        try {
          writeAll(Buffer.from(text));
        } catch (err) {
          failure = err as Error;
        }
      }
      done?.(failure);
    },
  };
}
