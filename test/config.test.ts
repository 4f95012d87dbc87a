import { expect } from 'chai';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';

describe('config (unit)', () => {
  it('when nothing is set, then the documented defaults apply and the embedded database is used', () => {
    const c = loadConfig({});
    // Every setting with its default (keep in step with the README's Settings table).
    expect(c).to.deep.equal({
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      databaseReplicaUrls: [],
      embeddedPgDir: path.resolve('.data/pg'),
      embeddedPgPort: 54329,
      sampleProducts: 5000,
      workers: os.availableParallelism(),
      pgPoolMax: 8,
      pgConnectTimeoutMs: 2000,
      pgQueueMax: 64,
      pgStatementTimeoutMs: 5000,
      cacheMaxBytes: 128 * 1024 * 1024,
      cacheTtlSeconds: 300,
      cacheNotFoundTtlSeconds: 10,
      httpMaxAgeSeconds: 60,
      corsAllowOrigins: '*',
      logLevel: 'info',
      shutdownTimeoutMs: 8000,
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
    });
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('when values are set, then they are parsed as typed settings', () => {
    const c = loadConfig({
      PORT: '8081', DATABASE_URL: 'postgres://u:p@db:5432/x', WORKERS: '3', PG_POOL_MAX: '4',
      CACHE_MAX_BYTES: '1048576', CACHE_TTL_SECONDS: '30', HTTP_MAX_AGE_SECONDS: '0', LOG_LEVEL: 'warn',
    });
    expect(c).to.include({
      port: 8081, databaseUrl: 'postgres://u:p@db:5432/x', workers: 3, pgPoolMax: 4,
      cacheMaxBytes: 1_048_576, cacheTtlSeconds: 30, httpMaxAgeSeconds: 0, logLevel: 'warn',
    });
  });

  it('when several values are bad, then one error names every bad key', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'abc', WORKERS: '0', PG_POOL_MAX: '-1', CACHE_MAX_BYTES: '1.5', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', CACHE_TTL_SECONDS: '3' });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    const err = caught as ConfigError;
    for (const key of ['PORT', 'WORKERS', 'PG_POOL_MAX', 'CACHE_MAX_BYTES', 'LOG_LEVEL', 'DATABASE_URL']) {
      expect(err.message).to.contain(key);
    }
    expect(err.problems).to.have.length(6);
    expect(err.message).to.not.contain('CACHE_TTL_SECONDS');
  });

  it('when a value is empty, then the default applies', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).to.include({ port: 3000, databaseUrl: undefined });
  });

  describe('CORS_ALLOW_ORIGINS', () => {
    it('when it is unset, empty or *, then every origin may call', () => {
      for (const raw of [undefined, '', '*', ' * ']) expect(loadConfig({ CORS_ALLOW_ORIGINS: raw }).corsAllowOrigins, String(raw)).to.equal('*');
    });
    it('when it lists origins, then they are kept as written, once each', () => {
      expect(loadConfig({ CORS_ALLOW_ORIGINS: 'https://shop.example, http://localhost:5173,https://shop.example' }).corsAllowOrigins).to.deep.equal([
        'https://shop.example',
        'http://localhost:5173',
      ]);
    });
    for (const [raw, says] of [
      ['https://Shop.example', 'did you mean "https://shop.example"?'],
      ['https://shop.example/', 'did you mean "https://shop.example"?'],
      ['https://shop.example:443', 'did you mean "https://shop.example"?'],
      ['https://shop.example/path', 'did you mean "https://shop.example"?'],
      ['shop.example', '"shop.example" is not an origin (http:// or https:// URL)'],
      ['ftp://shop.example', '"ftp://shop.example" is not an origin (http:// or https:// URL)'],
      ['null', '"null" is not an origin'],
      ['*, https://shop.example', '"*" cannot be combined with origins'],
    ] as const) {
      it(`when it is "${raw}", then the service refuses to start, saying ${says}`, () => {
        expect(() => loadConfig({ CORS_ALLOW_ORIGINS: raw, PORT: 'x' }))
          .to.throw(ConfigError)
          .that.satisfies((err: ConfigError) => err.problems.length === 2 && err.message.includes('CORS_ALLOW_ORIGINS') && err.message.includes(says));
      });
    }
  });
});
