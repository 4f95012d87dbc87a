import { expect } from 'chai';
import { intOption, numberOption, UsageError } from '../../src/cli/options';

describe('command-line options (unit)', () => {
  it('when an integer option is absent, then the fallback; when in range, then its value', () => {
    expect(intOption('jobs', undefined, 2, 1, 16)).to.equal(2);
    expect(intOption('jobs', '1', 2, 1, 16)).to.equal(1);
    expect(intOption('jobs', '16', 2, 1, 16)).to.equal(16);
  });
  for (const raw of ['0', '17', '-1', '1.5', '', 'x', '1e1', ' 3']) {
    it(`when an integer option is "${raw}", then a usage error names it, its range and the value`, () => {
      expect(() => intOption('jobs', raw, 2, 1, 16)).to.throw(UsageError, `--jobs must be an integer from 1 to 16 (got "${raw}")`);
    });
  }
  it('when a number option has decimals in range, then its value; out of range or not a number, then a usage error', () => {
    expect(numberOption('max-reject-ratio', '0.01', 1, 0, 1)).to.equal(0.01);
    expect(numberOption('max-reject-ratio', undefined, 1, 0, 1)).to.equal(1);
    for (const raw of ['1.5', '-0.1', 'abc', '', 'Infinity']) {
      expect(() => numberOption('max-reject-ratio', raw, 1, 0, 1), raw).to.throw(UsageError, /^--max-reject-ratio must be a number from 0 to 1/);
    }
  });
});
