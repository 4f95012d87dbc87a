import { expect } from 'chai';
import { formatBytes, formatCount, formatDuration } from '../../../db/etl/format';

describe('Output formats of the data tools', () => {
  it('when a duration passes an hour, then it shows hours and minutes', () => {
    expect(formatDuration(3_725_000)).to.equal('1h02m');
  });

  it('when a duration is under an hour, then it shows whole seconds, with minutes past one', () => {
    expect(formatDuration(41_600)).to.equal('42s');
    expect(formatDuration(65_000)).to.equal('1m05s');
  });

  it('when sizes and counts are large, then sizes use decimal units and counts thousands separators', () => {
    expect(formatBytes(512)).to.equal('1 kB');
    expect(formatBytes(2_500_000)).to.equal('2.5 MB');
    expect(formatBytes(1_234_000_000)).to.equal('1.23 GB');
    expect(formatCount(1_000_011.4)).to.equal('1,000,011');
  });
});
