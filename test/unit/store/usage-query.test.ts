/** The parameters of a usage report: defaults, bounds and bucket starts, before any SQL runs. */
import { describe, expect, it } from 'vitest';
import { bucketStarts, resolveUsageQuery } from '../../../src/store/usage-query.ts';

const NOW = Date.parse('2026-12-03T19:20:00.123Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('resolveUsageQuery', () => {
  it('defaults to the last 30 UTC days by day, today included, up to now', () => {
    const r = resolveUsageQuery({}, NOW);
    expect([iso(r.from), iso(r.to)]).toEqual(['2026-11-04T00:00:00.000Z', iso(NOW)]);
    expect(r).toMatchObject({ bucket: 'day', groupBy: { kind: 'none' }, limit: 10 });
    expect(bucketStarts(r.from, r.to, r.bucket)).toHaveLength(30);
  });

  it('defaults to the last 24 hours by hour, this hour included', () => {
    const r = resolveUsageQuery({ bucket: 'hour' }, NOW);
    expect(iso(r.from)).toBe('2026-12-02T20:00:00.000Z');
    const starts = bucketStarts(r.from, r.to, 'hour');
    expect(starts).toHaveLength(24);
    expect(iso(starts[23]!)).toBe('2026-12-03T19:00:00.000Z');
  });

  it('counts the default range back from `to`; a bare `to` date includes its day', () => {
    const r = resolveUsageQuery({ to: '2026-03-12' }, NOW);
    expect([iso(r.from), iso(r.to)]).toEqual(['2026-02-11T00:00:00.000Z', '2026-03-13T00:00:00.000Z']);
  });

  it('gives partial first and last buckets their whole start', () => {
    const from = Date.parse('2026-03-10T05:00:00Z');
    const to = Date.parse('2026-03-12T01:00:00Z');
    expect(bucketStarts(from, to, 'day').map(iso)).toEqual([
      '2026-03-10T00:00:00.000Z',
      '2026-03-11T00:00:00.000Z',
      '2026-03-12T00:00:00.000Z',
    ]);
  });

  it('parses group_by, tag filters (split at the first colon) and limits', () => {
    const r = resolveUsageQuery({ group_by: 'tag:team:sub', tag: 'env:prod:eu', limit: 50 }, NOW);
    expect(r.groupBy).toEqual({ kind: 'tag', name: 'team:sub' });
    expect(r.tag).toEqual({ name: 'env', value: 'prod:eu' });
    expect(resolveUsageQuery({ tag: 'project:' }, NOW).tag).toEqual({ name: 'project', value: '' });
  });

  it.each([
    [
      { from: '2026-01-01', to: '2026-04-03T00:00:00.001Z' },
      'from',
      /spans 92 days 1 ms; .* at most 92 days/,
    ],
    [
      { bucket: 'hour' as const, from: '2026-03-01', to: '2026-03-16' },
      'from',
      /spans 16 days; .* at most 14 days/,
    ],
    [{ from: '2026-03-02', to: '2026-03-01T00:00:00Z' }, 'to', /after from/],
    [{ from: 'soon' }, 'from', /ISO 8601/],
    [{ to: '300000000000000' }, 'to', /9999/],
    [{ group_by: 'provider' }, 'group_by', /none, team, key, model, user, surface, run or tag/],
    [{ group_by: `tag:${'x'.repeat(201)}` }, 'group_by', /1 to 200/],
    [{ tag: 'a\\b:c' }, 'tag', /cannot be queried/],
    [{ limit: 1.5 }, 'limit', /1 to 50/],
  ])('%j is refused, naming %s', (query, param, message) => {
    expect(() => resolveUsageQuery(query, NOW)).toThrow(expect.objectContaining({ code: 'invalid', param }));
    expect(() => resolveUsageQuery(query, NOW)).toThrow(message);
  });
});
