import zlib from 'node:zlib';

/** The content codings documents are stored in besides identity, most preferred first. */
export const CODINGS = ['br', 'gzip'] as const;
export type Coding = (typeof CODINGS)[number];

// Chosen with `npm run bench:compression` on the full catalog (README, Compression): brotli
// 5 makes styles documents 16.5 % of identity in about 45 µs, as small as 6 and 7 and 4–5 %
// larger than 11, which takes 4 ms (9: 5 ms); gzip 6 is as small as 9 (18.9 %) and as fast as 1.
export const BROTLI_QUALITY = 5;
export const GZIP_LEVEL = 6;

const brotliOptions = (size: number): zlib.BrotliOptions => ({
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
  },
});
const gzipOptions: zlib.ZlibOptions = { level: GZIP_LEVEL };

// Bodies up to this many bytes are compressed on the event loop, in a later turn (setImmediate,
// after the current turn's responses are written): 40–95 µs of loop time for a styles
// document at brotli 5 or gzip 6 (`npm run bench:compression`, synchronous). zlib's asynchronous call (a stream object per call, a trip to libuv's
// thread pool and back) costs several times the CPU for the same document: `npm run
// bench:compression`, "where it runs" (README, Compression). Larger bodies (listing pages of
// thousands of products: milliseconds each) still go to the thread pool.
export const SYNC_MAX_BYTES = 16 * 1024;

/** Compresses `body`: small bodies on the event loop in a later turn, large ones on libuv's thread pool. */
export function compress(coding: Coding, body: Buffer): Promise<Buffer> {
  if (body.length > SYNC_MAX_BYTES) return compressOnThreadPool(coding, body);
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        resolve(compressSync(coding, body));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/** The same bytes as `compress`, on libuv's thread pool whatever the size. */
export function compressOnThreadPool(coding: Coding, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer): void => (err ? reject(err) : resolve(out));
    if (coding === 'br') zlib.brotliCompress(body, brotliOptions(body.length), done);
    else zlib.gzip(body, gzipOptions, done);
  });
}

/** The same bytes as `compress`, synchronously (small bodies, and tools: the bench's static baseline files). */
export function compressSync(coding: Coding, body: Buffer): Buffer {
  return coding === 'br' ? zlib.brotliCompressSync(body, brotliOptions(body.length)) : zlib.gzipSync(body, gzipOptions);
}
