import { expect } from 'chai';
import { AppError } from '../../src/http/errors';
import { parseCount, parseIntParam, parseProductId, PG_INT_MAX } from '../../src/http/params';

/** The 400's message, or a failure when `parse` did not throw an AppError 400. */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).status).to.equal(400);
    return (err as AppError).message;
  }
  throw new Error('expected a 400');
}

describe('request parameters (unit)', () => {
  it('when product_id is a positive integer that fits PostgreSQL, then its value; otherwise a 400', () => {
    expect(parseProductId('1')).to.equal(1);
    expect(parseProductId(String(PG_INT_MAX))).to.equal(PG_INT_MAX);
    for (const raw of [undefined, '0', '01', '-1', '1.0', '1e3', ' 1', String(PG_INT_MAX + 1), '99999999999']) {
      expect(refusal(() => parseProductId(raw)), String(raw)).to.equal(`product_id must be an integer from 1 to ${PG_INT_MAX}`);
    }
  });

  it('when page is absent, then the fallback; in range, then its value; repeated or out of range, then a 400 naming it', () => {
    expect(parseIntParam('page', undefined, 1, 1, PG_INT_MAX)).to.equal(1);
    expect(parseIntParam('page', '7', 1, 1, PG_INT_MAX)).to.equal(7);
    for (const raw of ['0', '', 'x', '2147483648', ['1', '2']]) {
      expect(refusal(() => parseIntParam('page', raw, 1, 1, PG_INT_MAX)), String(raw)).to.equal(`page must be an integer from 1 to ${PG_INT_MAX}`);
    }
  });

  it('when count is above the largest page, then it is served as that page; below 1 or not an integer, then a 400', () => {
    expect(parseCount(undefined, 5, 1000)).to.equal(5);
    expect(parseCount('1000', 5, 1000)).to.equal(1000);
    expect(parseCount('1001', 5, 1000)).to.equal(1000);
    expect(parseCount('99999999999999999999999', 5, 1000)).to.equal(1000);
    for (const raw of ['0', '', '-1', '1.5', '+5', ['5', '6']]) {
      expect(refusal(() => parseCount(raw, 5, 1000)), String(raw)).to.equal('count must be an integer of at least 1 (a count above 1000 is served as 1000)');
    }
  });
});
