import { expect } from 'chai';
import { isConnectionFailure, isDatabaseUnavailable } from '../../src/postgres/errors';

const pgError = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('database error classification (unit)', () => {
  it('when the database is away, restarting, full or the pool gave up, then it is unavailable', () => {
    for (const err of [
      pgError('ECONNREFUSED'), pgError('ECONNRESET'), pgError('08006'), pgError('08P01'), pgError('57P01'), pgError('57P03'),
      pgError('53300'), pgError('57014'), new Error('timeout exceeded when trying to connect'), new Error('Connection terminated unexpectedly'),
    ]) {
      expect(isDatabaseUnavailable(err), err.message + (err as { code?: string }).code).to.equal(true);
      expect(isConnectionFailure(err)).to.equal(true);
    }
  });

  it('when the login or the database is refused, then it is a connection failure (503) but not "unavailable" (the primary stops)', () => {
    for (const code of ['28P01', '28000', '3D000']) {
      expect(isConnectionFailure(pgError(code)), code).to.equal(true);
      expect(isDatabaseUnavailable(pgError(code)), code).to.equal(false);
    }
  });

  it('when the error is a bug (a missing relation, a syntax error, a TypeError) or not an Error, then it is neither', () => {
    for (const err of [pgError('42P01', 'relation "catalog.x" does not exist'), pgError('42601'), new TypeError('x is undefined'), 'ECONNREFUSED', { code: '08006' }, undefined]) {
      expect(isConnectionFailure(err), String(err)).to.equal(false);
      expect(isDatabaseUnavailable(err), String(err)).to.equal(false);
    }
  });
});
