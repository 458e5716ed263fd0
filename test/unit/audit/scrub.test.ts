/** The audit log's last line of defence: nothing secret survives `scrub`, and ordinary details do. */
import { describe, expect, it } from 'vitest';
import { REDACTED, scrub } from '../../../src/audit/index.ts';

describe('scrub', () => {
  it('keeps ordinary details as they are', () => {
    const details = { team: 'research', budget: { limit_usd: 25, alerts: [50, 80] }, models: ['a'], n: null };
    expect(scrub(details)).toEqual(details);
  });

  it('drops fields that only hold secrets, at any depth', () => {
    expect(
      scrub({
        key: 'x',
        nested: { secret: 's', api_key: 'k', Authorization: 'Bearer y', token: 't' },
        name: 'ok',
      }),
    ).toEqual({
      key: REDACTED,
      nested: { secret: REDACTED, api_key: REDACTED, Authorization: REDACTED, token: REDACTED },
      name: 'ok',
    });
  });

  it('replaces Quorum keys and known secrets wherever they appear in a string', () => {
    const made = `qk-${'A1b2C3d4'.repeat(5)}xyz`;
    const out = scrub({ note: `made ${made} for ci`, list: ['mk-master-secret-value', 'fine'] }, [
      'mk-master-secret-value',
      'short',
    ]);
    expect(out).toEqual({ note: `made ${REDACTED} for ci`, list: [REDACTED, 'fine'] });
    expect(JSON.stringify(out)).not.toContain(made);
  });
});
