/** The end user a request names, as the ledger records it: `user`, else Anthropic's `metadata.user_id`. */
import { describe, expect, it } from 'vitest';
import { endUserOf, MAX_END_USER } from '../../../src/gateway/index.ts';

describe('endUserOf', () => {
  it.each([
    [{ user: 'alice' }, 'alice'],
    [{ metadata: { user_id: 'bob' } }, 'bob'],
    [{ user: 'alice', metadata: { user_id: 'bob' } }, 'alice'],
    [{ user: '', metadata: { user_id: 'bob' } }, 'bob'],
    [{ metadata: { user_id: null } }, null],
    [{ metadata: null }, null],
    [{ user: 42 }, null],
    [{ user: ['a'] }, null],
    [{}, null],
    [null, null],
    ['alice', null],
    [{ user: 'ev\0e' }, 'eve'],
    [{ user: '\0' }, null],
  ])('%j → %j', (body, user) => {
    expect(endUserOf(body)).toBe(user);
  });

  it(`keeps at most ${MAX_END_USER} characters`, () => {
    expect(endUserOf({ user: 'u'.repeat(10_000) })).toBe('u'.repeat(MAX_END_USER));
  });
});
