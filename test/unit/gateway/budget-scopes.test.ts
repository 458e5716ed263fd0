/**
 * Which budget windows a request is held in (budgetWindows): the team's, the key's, the end user's and
 * the matching tags', each bound to its own counter and raised — never lowered — by a live override;
 * and the live-override cache, whose entries end by themselves at their expiry.
 */
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../../src/gateway/access/index.ts';
import { budgetWindows } from '../../../src/gateway/budget/scopes.ts';
import { OverrideCache } from '../../../src/limits/overrides.ts';
import { parseSubject, scopeSubject, tagMatches } from '../../../src/limits/scopes.ts';

const caller: Caller = {
  team: 'acme',
  keyId: null,
  keyName: 'bot',
  allowedModels: null,
  budget: { team: 'acme', limitUsd: 5, period: 'daily' },
  teamLimits: null,
  keyLimits: null,
  operator: false,
  scopes: {
    team: [
      { limitUsd: 5, period: 'daily' },
      { limitUsd: 100, period: 'monthly' },
    ],
    key: { windows: [{ limitUsd: 1, period: 'daily' }], limits: null },
    endUsers: { windows: [{ limitUsd: 0.5, period: 'daily' }], limits: null },
    tags: [
      ['project:apollo', { windows: [{ limitUsd: 40, period: 'total' }], limits: null }],
      ['env', { windows: [{ limitUsd: 9, period: 'weekly' }], limits: null }],
    ],
  },
};

describe('budgetWindows', () => {
  it('binds every applicable window to its scope’s counter, team first', () => {
    const windows = budgetWindows(caller, { endUser: 'a/b', tags: { project: 'apollo', env: 'prod' } });
    expect(windows.map((w) => [w.label, w.policy.team, w.policy.period, w.policy.limitUsd])).toEqual([
      ['team', 'acme', 'daily', 5],
      ['team', 'acme', 'monthly', 100],
      ['key', 'key/acme/static:bot', 'daily', 1],
      ['user', 'user/acme/a/b', 'daily', 0.5],
      ['tag:project:apollo', 'tag/acme/project:apollo', 'total', 40],
      ['tag:env', 'tag/acme/env', 'weekly', 9],
    ]);
    // An end user with a slash is still that user of that team.
    expect(parseSubject('user/acme/a/b')).toEqual({ kind: 'user', team: 'acme', id: 'a/b' });
  });

  it('leaves out scopes the request does not name, and tags of another value', () => {
    const windows = budgetWindows(caller, { endUser: null, tags: { project: 'zeus' } });
    expect(windows.map((w) => w.label)).toEqual(['team', 'team', 'key']);
    expect(tagMatches('project:apollo', { project: 'apollo' })).toBe(true);
    expect(tagMatches('project', { project: 'anything' })).toBe(true);
    expect(tagMatches('project:apollo', null)).toBe(false);
  });

  it('raises a window by a live override, only that window, and never lowers one', () => {
    const overrides = {
      limitFor: (subject: string, period: string) =>
        subject === 'user/acme/ann' && period === 'daily' ? 2 : subject === 'acme' ? 0.1 : undefined,
    };
    const windows = budgetWindows(caller, { endUser: 'ann' }, overrides);
    expect(windows.map((w) => w.policy.limitUsd)).toEqual([5, 100, 1, 2]);
  });
});

describe('OverrideCache', () => {
  it('answers the highest live raise of a window, and forgets one at its expiry without a reload', async () => {
    let now = 1_000;
    const subject = scopeSubject({ kind: 'tag', team: 'acme', id: 'env' });
    const cache = new OverrideCache({
      now: () => now,
      load: async () => [
        { subject, period: null, limit_usd: 20, expires_at: 5_000 },
        { subject, period: 'weekly', limit_usd: 30, expires_at: 2_000 },
      ],
    });
    await cache.reload();
    expect(cache.limitFor(subject, 'weekly')).toBe(30);
    expect(cache.limitFor(subject, 'daily')).toBe(20);
    now = 2_000;
    expect(cache.limitFor(subject, 'weekly')).toBe(20);
    now = 5_000;
    expect(cache.limitFor(subject, 'weekly')).toBeUndefined();
    expect(cache.limitFor('acme', 'weekly')).toBeUndefined();
  });
});
