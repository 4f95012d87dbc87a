import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config';

describe('metrics settings', () => {
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
