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
      embeddedPgSharedBuffersMb: Math.min(2048, Math.floor(os.totalmem() / 4 / 2 ** 20)),
      sampleProducts: 5000,
      workers: os.availableParallelism(),
      pgPoolMax: 8,
      pgDocumentReads: 2,
      pgConnectTimeoutMs: 2000,
      pgQueueMax: 256,
      pgStatementTimeoutMs: 5000,
      cacheMaxBytes: 128 * 1024 * 1024,
      cacheTtlSeconds: 300,
      cacheNotFoundTtlSeconds: 10,
      cacheAdmitAfter: 2,
      compressAfterRequests: 2,
      compressMaxPerSecond: 1000,
      compressMaxInFlight: 8,
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
      PORT: '8081', DATABASE_URL: 'postgres://u:p@db:5432/x', WORKERS: '3', PG_POOL_MAX: '4', PG_DOCUMENT_READS: '3',
      CACHE_MAX_BYTES: '1048576', CACHE_TTL_SECONDS: '30', HTTP_MAX_AGE_SECONDS: '0', LOG_LEVEL: 'warn', COMPRESS_MAX_IN_FLIGHT: '4',
    });
    expect(c).to.include({
      port: 8081, databaseUrl: 'postgres://u:p@db:5432/x', workers: 3, pgPoolMax: 4, pgDocumentReads: 3,
      cacheMaxBytes: 1_048_576, cacheTtlSeconds: 30, httpMaxAgeSeconds: 0, logLevel: 'warn', compressMaxInFlight: 4,
    });
  });

  it('when several values are bad, then one error names every bad key', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'abc', WORKERS: '0', PG_POOL_MAX: '-1', CACHE_MAX_BYTES: '1.5', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', CACHE_TTL_SECONDS: '3', COMPRESS_MAX_IN_FLIGHT: '0', CACHE_ADMIT_AFTER: '3' });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    const err = caught as ConfigError;
    for (const key of ['PORT', 'WORKERS', 'PG_POOL_MAX', 'CACHE_MAX_BYTES', 'LOG_LEVEL', 'DATABASE_URL', 'COMPRESS_MAX_IN_FLIGHT', 'CACHE_ADMIT_AFTER']) {
      expect(err.message).to.contain(key);
    }
    expect(err.problems).to.have.length(8);
    expect(err.message).to.not.contain('CACHE_TTL_SECONDS');
  });

  it('when PG_DOCUMENT_READS exceeds PG_POOL_MAX, then the configuration is refused naming both', () => {
    expect(() => loadConfig({ PG_POOL_MAX: '2', PG_DOCUMENT_READS: '3' })).to.throw(ConfigError, /PG_DOCUMENT_READS must not exceed PG_POOL_MAX \(2\)/);
    expect(loadConfig({ PG_POOL_MAX: '3', PG_DOCUMENT_READS: '3' }).pgDocumentReads).to.equal(3);
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

  describe('METRICS_PORT and METRICS_HOST', () => {
    it('when nothing is set, then metrics are served on loopback port 9464', () => {
      const config = loadConfig({});
      expect(config.metricsPort).to.equal(9464);
      expect(config.metricsHost).to.equal('127.0.0.1');
    });

    it('when METRICS_PORT is 0, then metrics are disabled; METRICS_HOST is taken as given', () => {
      const config = loadConfig({ METRICS_PORT: '0', METRICS_HOST: '0.0.0.0' });
      expect(config.metricsPort).to.equal(0);
      expect(config.metricsHost).to.equal('0.0.0.0');
    });

    it('when METRICS_PORT is the public port or not a port, then the configuration is refused naming it', () => {
      for (const env of [{ PORT: '8000', METRICS_PORT: '8000' }, { METRICS_PORT: '70000' }, { METRICS_PORT: 'x' }]) {
        expect(() => loadConfig(env), JSON.stringify(env)).to.throw(ConfigError, /METRICS_PORT/);
      }
    });
  });

  describe('DATABASE_REPLICA_URLS', () => {
    const primary = 'postgres://app@db-primary:5432/atelier';

    it('when unset or empty, then there are no replicas', () => {
      expect(loadConfig({ DATABASE_URL: primary }).databaseReplicaUrls).to.deep.equal([]);
      expect(loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: '' }).databaseReplicaUrls).to.deep.equal([]);
    });

    it('when a comma-separated list is given, then every URL is kept in order, blanks trimmed', () => {
      const config = loadConfig({
        DATABASE_URL: primary,
        DATABASE_REPLICA_URLS: ' postgres://app@db-r1:5432/atelier, postgresql://app@db-r2:5432/atelier ,',
      });
      expect(config.databaseReplicaUrls).to.deep.equal(['postgres://app@db-r1:5432/atelier', 'postgresql://app@db-r2:5432/atelier']);
    });

    it('when an entry is not a postgres URL, then loading fails naming the key', () => {
      expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: 'postgres://app@db-r1/atelier,mysql://x' }))
        .to.throw(ConfigError, /DATABASE_REPLICA_URLS/);
    });

    it('when replicas are given without DATABASE_URL (an embedded database), then loading fails naming both keys', () => {
      expect(() => loadConfig({ DATABASE_REPLICA_URLS: 'postgres://app@db-r1/atelier' })).to.throw(ConfigError, /DATABASE_REPLICA_URLS needs DATABASE_URL/);
    });
  });
});
