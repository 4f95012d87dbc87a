import zlib from 'node:zlib';
import { expect } from 'chai';
import { CODINGS, compress, compressOnThreadPool, compressSync, SYNC_MAX_BYTES } from '../../src/catalog/compression';

const decode = (coding: string, body: Buffer): Buffer => (coding === 'br' ? zlib.brotliDecompressSync(body) : zlib.gunzipSync(body));

// A JSON-like body of `bytes` bytes that does not compress to almost nothing.
function body(bytes: number): Buffer {
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `{"sku":${(i * 7919) % 100_003},"size":"${(i * 31) % 97}"},`;
  return Buffer.from(s.slice(0, bytes), 'latin1');
}

describe('compression', () => {
  for (const coding of CODINGS) {
    for (const [name, size] of [
      ['a document at most SYNC_MAX_BYTES', SYNC_MAX_BYTES],
      ['a larger body (a long listing page)', 4 * SYNC_MAX_BYTES + 1],
    ] as const) {
      it(`when ${name} is compressed with ${coding}, then the bytes are compressSync's and the thread pool's, and decode to the body`, async () => {
        const identity = body(size);
        const coded = await compress(coding, identity);
        expect(coded.equals(compressSync(coding, identity))).to.equal(true);
        expect(coded.equals(await compressOnThreadPool(coding, identity))).to.equal(true);
        expect(decode(coding, coded).equals(identity)).to.equal(true);
        expect(coded.length).to.be.below(identity.length);
      });
    }
  }

  it('when a small body is compressed, then the work waits for a later turn of the event loop (not the caller\'s)', async () => {
    let settled = false;
    const pending = compress('br', body(1024)).then(() => (settled = true));
    // Microtasks of the caller's turn run here: a compression done in the call would have settled.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(settled).to.equal(false);
    await pending;
    expect(settled).to.equal(true);
  });
});
