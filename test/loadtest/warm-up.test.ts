import { expect } from 'chai';
import { compressedShare, parseEncodingBytes } from '../../loadtest/bench/encodings';
import { cachedEnough, compressedEnough, type WarmRound } from '../../loadtest/bench/scenarios/warm-up';

const METRICS = `# HELP atelier_cache_entries Entries in the document cache, documents and cached 404s.
# TYPE atelier_cache_entries gauge
atelier_cache_entries 12
# HELP atelier_http_response_bytes_total Document body bytes sent, by content coding (br, gzip, identity).
# TYPE atelier_http_response_bytes_total counter
atelier_http_response_bytes_total{encoding="br"} 3000
atelier_http_response_bytes_total{encoding="gzip"} 0
atelier_http_response_bytes_total{encoding="identity"} 50000
# TYPE atelier_http_response_uncompressed_bytes_total counter
atelier_http_response_uncompressed_bytes_total{encoding="br"} 20000
atelier_http_response_uncompressed_bytes_total{encoding="gzip"} 0
atelier_http_response_uncompressed_bytes_total{encoding="identity"} 50000
`;

const round = (over: Partial<WarmRound>): WarmRound => ({ requests: 10_000, missRatio: 0.001, bytesPerRequest: 600, ...over });

describe('bench warm-up of the compressed scenario (unit)', () => {
  it('when the service exposes the encoding counters, then they are read by coding, other labels summed over', () => {
    expect(parseEncodingBytes(METRICS)).to.deep.equal({
      sent: { br: 3000, gzip: 0, identity: 50000 },
      uncompressed: { br: 20000, gzip: 0, identity: 50000 },
    });
    const perRoute = `atelier_http_response_bytes_total{route="/a",encoding="br"} 1\natelier_http_response_bytes_total{encoding="br",route="/b"} 2\natelier_http_response_uncompressed_bytes_total{encoding="identity"} 7\n`;
    expect(parseEncodingBytes(perRoute)).to.deep.equal({ sent: { br: 3, gzip: 0, identity: 0 }, uncompressed: { br: 0, gzip: 0, identity: 7 } });
  });

  it('when the service has no encoding counters (a build without content coding), then there is no reading and no share', () => {
    expect(parseEncodingBytes('atelier_cache_entries 12\natelier_http_requests_in_flight 0\n')).to.equal(undefined);
    expect(compressedShare(undefined, parseEncodingBytes(METRICS))).to.equal(undefined);
  });

  it('when documents were served between two readings, then the share sent compressed is by their identity size', () => {
    const before = parseEncodingBytes(METRICS)!;
    const after = { sent: { ...before.sent }, uncompressed: { br: 20000 + 9000, gzip: 500, identity: 50000 + 500 } };
    expect(compressedShare(before, after)).to.equal(0.95);
    expect(compressedShare(before, before)).to.equal(undefined);
  });

  it('when cache misses are at 0.5 % or more, then neither traffic is warm, whatever was compressed', () => {
    expect(cachedEnough(round({ missRatio: 0.005 }))).to.equal(false);
    expect(cachedEnough(round({ missRatio: 0.0049 }))).to.equal(true);
    expect(compressedEnough(round({ bytesPerRequest: 600 }), round({ missRatio: 0.02, compressedShare: 1 }))).to.equal(false);
  });

  it('when 98 % of the document bytes went out compressed, then Accept-Encoding traffic is warm, even on its first run', () => {
    expect(compressedEnough(undefined, round({ compressedShare: 0.98 }))).to.equal(true);
    expect(compressedEnough(undefined, round({ compressedShare: 0.97 }))).to.equal(false);
  });

  it('when fewer were compressed, then it is warm once bytes per request fell by less than 1 % from the run before', () => {
    expect(compressedEnough(round({ bytesPerRequest: 1000 }), round({ bytesPerRequest: 600, compressedShare: 0.6 }))).to.equal(false);
    expect(compressedEnough(round({ bytesPerRequest: 606 }), round({ bytesPerRequest: 600, compressedShare: 0.9 }))).to.equal(true);
    // No counters (identity-only service): bytes that do not fall, or rise, end the warm-up too.
    expect(compressedEnough(round({ bytesPerRequest: 1500 }), round({ bytesPerRequest: 1500 }))).to.equal(true);
    expect(compressedEnough(round({ bytesPerRequest: 1500 }), round({ bytesPerRequest: 1510 }))).to.equal(true);
    expect(compressedEnough(undefined, round({ bytesPerRequest: 1500 }))).to.equal(false);
  });
});
