import { expect } from 'chai';
import { changesPayload, MAX_PAYLOAD_BYTES, parseCatalogNotice } from '../../src/postgres/catalog-notice';

describe('catalog notices (unit)', () => {
  it('when a load announces a version, then the notice clears everything', () => {
    expect(parseCatalogNotice('12')).to.deep.equal({ kind: 'catalog', version: '12' });
    expect(parseCatalogNotice('unknown (listener reconnected)')).to.deep.equal({ kind: 'catalog', version: 'unknown (listener reconnected)' });
  });

  it('when a change set names its keys, then they are read back exactly', () => {
    const payload = changesPayload(13, ['p1', 's22', 'r333', 'l']);
    expect(payload).to.equal('13 p1,s22,r333,l');
    expect(parseCatalogNotice(payload)).to.deep.equal({ kind: 'changes', version: '13', keys: ['p1', 's22', 'r333', 'l'] });
  });

  it('when the keys do not fit a notification, then it points at the stored keys', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `s${1_000_000 + i}`);
    const payload = changesPayload(14, keys);
    expect(payload).to.equal('14 @');
    expect(parseCatalogNotice(payload)).to.deep.equal({ kind: 'changes-stored', version: 14 });
    // The largest list that still fits is sent as it is.
    const fits = keys.slice(0, Math.floor((MAX_PAYLOAD_BYTES - 3) / 9));
    expect(Buffer.byteLength(changesPayload(14, fits))).to.be.at.most(MAX_PAYLOAD_BYTES);
    expect(parseCatalogNotice(changesPayload(14, fits))).to.deep.equal({ kind: 'changes', version: '14', keys: fits });
  });

  it('when a payload has a version and something that is not keys, then everything is cleared (the safe reading)', () => {
    expect(parseCatalogNotice('15 p1,DROP TABLE').kind).to.equal('catalog');
    expect(parseCatalogNotice('15 ').kind).to.equal('catalog');
  });
});
