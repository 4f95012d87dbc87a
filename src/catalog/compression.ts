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

/** Compresses `body` on the libuv thread pool, off the event loop. */
export function compress(coding: Coding, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer): void => (err ? reject(err) : resolve(out));
    if (coding === 'br') zlib.brotliCompress(body, brotliOptions(body.length), done);
    else zlib.gzip(body, gzipOptions, done);
  });
}

/** The same bytes as `compress`, synchronously: for tools (the bench's static baseline files). */
export function compressSync(coding: Coding, body: Buffer): Buffer {
  return coding === 'br' ? zlib.brotliCompressSync(body, brotliOptions(body.length)) : zlib.gzipSync(body, gzipOptions);
}
