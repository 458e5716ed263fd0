/**
 * Which failures mean "the database is down or busy" (a 503 the client may retry) rather than a bug or
 * bad data (still a 500, or the caller's 4xx).
 */
import { describe, expect, it } from 'vitest';
import { isStoreUnavailable, StoreError, unavailableReason } from '../../../src/store/errors.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isStoreUnavailable', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:5432')],
    ['connection reset', withCode('ECONNRESET')],
    ['pg connection lost', new Error('Connection terminated unexpectedly')],
    ['pg connect timeout', new Error('timeout exceeded when trying to connect')],
    ['pg admin shutdown', withCode('57P01', 'terminating connection due to administrator command')],
    ['pg starting up', withCode('57P03', 'the database system is starting up')],
    ['pg connection exception', withCode('08006')],
    ['too many connections', withCode('53300')],
    ['sqlite busy', Object.assign(new Error('database is locked'), { code: 'ERR_SQLITE_ERROR', errcode: 5 })],
    [
      'sqlite busy (extended code)',
      Object.assign(new Error('x'), { code: 'ERR_SQLITE_ERROR', errcode: 261 }),
    ],
    ['wrapped in a cause', new Error('engine failed', { cause: withCode('ECONNREFUSED') })],
    [
      'inside an AggregateError',
      Object.assign(new AggregateError([withCode('ECONNREFUSED')]), { code: undefined }),
    ],
  ])('%s: unavailable', (_label, err) => {
    expect(isStoreUnavailable(err)).toBe(true);
  });

  it.each([
    ['unique violation', withCode('23505', 'duplicate key value')],
    ['syntax error', withCode('42601')],
    ['a caller mistake', new StoreError('not_found', 'no such team')],
    [
      'sqlite constraint',
      Object.assign(new Error('UNIQUE constraint failed'), { code: 'ERR_SQLITE_ERROR', errcode: 19 }),
    ],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['not an error', 'ECONNREFUSED'],
  ])('%s: not unavailable', (_label, err) => {
    expect(isStoreUnavailable(err)).toBe(false);
  });

  it('gives a reason without addresses', () => {
    expect(unavailableReason(withCode('ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:5432'))).toBe(
      'ECONNREFUSED',
    );
    expect(unavailableReason(new Error('Connection terminated unexpectedly'))).toBe(
      'Connection terminated unexpectedly',
    );
  });
});
