import { expect } from 'chai';
import {
  changesPayload,
  listChangeKey,
  MAX_PAYLOAD_BYTES,
  parseCatalogNotice,
  parseListChange,
} from '../../src/postgres/catalog-notice';
import { MISSED } from '../../src/postgres/listener';

describe('catalog notices (unit)', () => {
  it('when a load announces a version, or the listener may have missed a notice, then the notice clears everything', () => {
    expect(parseCatalogNotice('12')).to.deep.equal({ kind: 'catalog', version: '12' });
    expect(parseCatalogNotice(MISSED)).to.deep.equal({ kind: 'catalog', version: MISSED });
  });

  it('when a change set names its keys, then they are read back exactly', () => {
    const payload = changesPayload(13, ['p1', 's22', 'r333', 'l7', 'l9-12', 'l']);
    expect(payload).to.equal('13 p1,s22,r333,l7,l9-12,l');
    expect(parseCatalogNotice(payload)).to.deep.equal({
      kind: 'changes',
      version: '13',
      keys: ['p1', 's22', 'r333', 'l7', 'l9-12', 'l'],
    });
  });

  it('when listing positions are named, then each key reads back as its positions, and `l` or a reversed range as every position', () => {
    expect(listChangeKey({ from: 7, to: 7 })).to.equal('l7');
    expect(listChangeKey({ from: 9, to: 12 })).to.equal('l9-12');
    expect(parseListChange('l7')).to.deep.equal({ from: 7, to: 7 });
    expect(parseListChange('l9-12')).to.deep.equal({ from: 9, to: 12 });
    expect(parseListChange('l')).to.equal('all');
    expect(parseListChange('l12-9')).to.equal('all');
    expect(parseListChange('lx')).to.equal('all');
    expect(parseCatalogNotice('16 l1-').kind).to.equal('catalog');
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
    expect(parseCatalogNotice('15 p1,').kind).to.equal('catalog');
  });

  it('when a change names no key (a load of an unchanged export), then nothing is to be dropped', () => {
    expect(changesPayload(15, [])).to.equal('15 ');
    expect(parseCatalogNotice(changesPayload(15, []))).to.deep.equal({ kind: 'changes', version: '15', keys: [] });
  });
});
