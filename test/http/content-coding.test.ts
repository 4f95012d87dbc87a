import { expect } from 'chai';
import { createPreferences, parseAcceptEncoding } from '../../src/http/content-coding';

describe('Accept-Encoding (unit)', () => {
  it('when codings are named with q-values, then they are ranked by q, ties br before gzip before identity', () => {
    const cases: Array<[string | undefined, string[]]> = [
      [undefined, ['identity']],
      ['', ['identity']],
      ['gzip, deflate, br', ['br', 'gzip', 'identity']],
      ['gzip;q=1, br;q=0.5', ['gzip', 'br', 'identity']],
      ['br;q=0.8, gzip;q=0.7', ['br', 'gzip', 'identity']],
      ['br;q=0.5, identity', ['identity', 'br']],
      ['br;q=0', ['identity']],
      ['*', ['br', 'gzip', 'identity']],
      ['*;q=0', []],
      ['*;q=0, identity', ['identity']],
      ['identity;q=0', []],
      ['identity;q=0, gzip;q=0.1', ['gzip']],
      ['X-GZIP', ['gzip', 'identity']],
      ['gzip;q=0.5, gzip;q=0.9, br;q=0.6', ['gzip', 'br', 'identity']],
      ['br;q=2, gzip;q=0.1234, identity;q=x', ['identity']],
      ['br ; Q=0.3 ,gzip', ['gzip', 'br', 'identity']],
    ];
    for (const [header, expected] of cases) expect(parseAcceptEncoding(header), JSON.stringify(header)).to.deep.equal(expected);
  });

  it('when the same header comes again, then the parsed preference is reused, and odd headers do not grow the memo', () => {
    const preferences = createPreferences();
    expect(preferences('br, gzip')).to.equal(preferences('br, gzip'));
    const long = `${'x, '.repeat(200)}br`;
    expect(preferences(long)).to.deep.equal(['br', 'identity']);
    expect(preferences(long)).to.not.equal(preferences(long));
  });
});
