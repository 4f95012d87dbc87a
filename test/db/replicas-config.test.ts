import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config';

describe('config: DATABASE_REPLICA_URLS', () => {
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
