import path from 'node:path';
import type { BenchContext } from '../context';
import { compressedShare, parseEncodingBytes, type EncodingBytes } from '../encodings';
import { wireRatioCheck } from '../wire-bytes';
import { hotAgainstBaseline, hotPageViewDraws, HOT_PAGE_VIEWS, ratioAndP99 } from './hot';
import { compressedEnough, MAX_COMPRESSED_WARM_UP_RUNS, warmUp } from './warm-up';

/**
 * The hot scenario's page views (the same paths), every request sending the clients'
 * Accept-Encoding: the service answers documents it has found hot with the brotli bytes it
 * stores, nginx with the same bytes as precompressed files (brotli_static, or gzip_static
 * without the module). Two rows, the baseline's and the service's; the service's is judged
 * against its own baseline (`hotCompressedVsBaseline`, `hotCompressedP99Ms`) and on its
 * document bytes per page view against the hot row's (identity, same paths): at most
 * `hotCompressedWireRatio` of them. Runs after `hot`, whose row it reads.
 */
export async function hotCompressedScenario(ctx: BenchContext): Promise<void> {
  const { file } = ctx;
  const headers = file.requestHeaders;
  const name = `hot compressed: Zipf page views with Accept-Encoding ${headers['Accept-Encoding'] ?? '(none)'}`;
  const pathsFile = path.join(ctx.dir, 'hot-compressed.paths');
  const identityRow = ctx.rows.find((row) => row.scenario.startsWith(HOT_PAGE_VIEWS));
  const identity = identityRow?.wireBytesPerView;
  if (identity === undefined) ctx.say(`${name}: the hot scenario did not run: no identity wire bytes to compare with`);
  // The service's encoding counters when the warm-up ended: the measured rounds' share is the difference to the end.
  let warm: EncodingBytes | undefined;
  await hotAgainstBaseline(ctx, {
    name,
    baselineName: 'baseline (compressed)',
    pathsFile,
    pageViews: hotPageViewDraws(ctx),
    headers,
    precompressed: true,
    // Longer than hot's, at most MAX_COMPRESSED_WARM_UP_RUNS: a document is compressed at its second
    // request on a worker (COMPRESS_AFTER_REQUESTS), and over the full catalog about a third
    // of a run's requests are for paths it asks for once, landing on either worker: their
    // documents take several runs to be compressed on both.
    async warmUp(service) {
      const last = await warmUp(ctx, service, pathsFile, name, compressedEnough, headers, MAX_COMPRESSED_WARM_UP_RUNS);
      if (!last?.compressedShare) {
        const why = last?.compressedShare === undefined ? 'it exposes no encoding counters: a build without content coding?' : 'its counters say so';
        ctx.say(`${name}: the service sent no compressed documents in its last warm-up run (${why})`);
      }
      warm = parseEncodingBytes(await service.metricsText());
    },
    async judge(result, service) {
      const share = compressedShare(warm, parseEncodingBytes(await service.metricsText()));
      // Judged on the document bodies: HTTP/1.1 response headers (about 430 B a response, the
      // same in both) are on the wire too and are shown, but a storefront's HTTP/2 edge
      // compresses repeated headers with HPACK, so they are not what compression is about.
      const wire = wireRatioCheck(result.wireBytesPerView ?? NaN, identity, file.bench.targets.hotCompressedWireRatio!);
      const documents = wireRatioCheck(result.documentBytesPerView ?? NaN, identityRow?.documentBytesPerView, file.bench.targets.hotCompressedWireRatio!, 'document bytes');
      return {
        checks: [...ratioAndP99(file.bench.targets.hotCompressedVsBaseline!, file.bench.targets.hotCompressedP99Ms!)(result).checks, documents.check],
        extra: { ...(wire.ratio !== undefined && { wireRatio: wire.ratio }), ...(documents.ratio !== undefined && { documentRatio: documents.ratio }) },
        nameSuffix: share === undefined ? ', no encoding counters' : `, ${(100 * share).toFixed(0)} % of document bytes sent compressed`,
      };
    },
  });
}
