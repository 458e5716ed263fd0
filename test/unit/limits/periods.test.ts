import { describe, expect, it } from 'vitest';
import { periodKey, periodOfKey, periodWindow } from '../../../src/limits/periods.ts';

const at = (iso: string) => Date.parse(iso);
const resets = (period: Parameters<typeof periodWindow>[0], iso: string) => {
  const r = periodWindow(period, at(iso)).resetsAt;
  return r === null ? null : new Date(r).toISOString();
};

describe('daily', () => {
  it('keys the UTC day and resets at the next UTC midnight', () => {
    expect(periodKey('daily', at('2026-11-22T23:59:59.999Z'))).toBe('2026-11-22');
    expect(periodKey('daily', at('2026-11-23T00:00:00.000Z'))).toBe('2026-11-23');
    expect(resets('daily', '2026-11-22T13:45:00Z')).toBe('2026-11-23T00:00:00.000Z');
    expect(resets('daily', '2026-12-31T23:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
  });

  it('is UTC regardless of the offset in the input', () => {
    expect(periodKey('daily', at('2026-11-22T23:30:00-05:00'))).toBe('2026-11-23');
  });

  it('handles the leap day', () => {
    expect(periodKey('daily', at('2028-02-29T12:00:00Z'))).toBe('2028-02-29');
    expect(resets('daily', '2028-02-28T12:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(resets('daily', '2028-02-29T12:00:00Z')).toBe('2028-03-01T00:00:00.000Z');
  });
});

describe('weekly (ISO 8601)', () => {
  it.each([
    // [instant, ISO week, next Monday]
    ['2026-11-22T12:00:00Z', '2026-W47', '2026-11-23T00:00:00.000Z'], // Sunday ends week 47
    ['2026-11-23T00:00:00Z', '2026-W48', '2026-11-30T00:00:00.000Z'], // Monday starts week 48
    ['2026-01-01T00:00:00Z', '2026-W01', '2026-01-05T00:00:00.000Z'], // Thursday: week 1 of its own year
    ['2027-01-01T00:00:00Z', '2026-W53', '2027-01-04T00:00:00.000Z'], // Friday: 2026 has 53 weeks
    ['2027-01-03T23:59:59Z', '2026-W53', '2027-01-04T00:00:00.000Z'],
    ['2027-01-04T00:00:00Z', '2027-W01', '2027-01-11T00:00:00.000Z'],
    ['2024-12-30T08:00:00Z', '2025-W01', '2025-01-06T00:00:00.000Z'], // Monday in December: next year's week 1
    ['2021-01-03T10:00:00Z', '2020-W53', '2021-01-04T00:00:00.000Z'], // Sunday in January: last year's week 53
    ['2028-02-29T00:00:00Z', '2028-W09', '2028-03-06T00:00:00.000Z'], // leap day
  ])('%s is %s, resetting %s', (iso, key, reset) => {
    expect(periodKey('weekly', at(iso))).toBe(key);
    expect(resets('weekly', iso)).toBe(reset);
  });
});

describe('monthly', () => {
  it.each([
    ['2026-11-30T23:59:59.999Z', '2026-11', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T00:00:00.000Z', '2026-12', '2027-01-01T00:00:00.000Z'],
    ['2026-12-31T23:59:59.999Z', '2026-12', '2027-01-01T00:00:00.000Z'],
    ['2026-01-31T12:00:00Z', '2026-01', '2026-02-01T00:00:00.000Z'],
    ['2028-02-29T12:00:00Z', '2028-02', '2028-03-01T00:00:00.000Z'],
    ['2027-02-28T12:00:00Z', '2027-02', '2027-03-01T00:00:00.000Z'],
  ])('%s is %s, resetting %s', (iso, key, reset) => {
    expect(periodKey('monthly', at(iso))).toBe(key);
    expect(resets('monthly', iso)).toBe(reset);
  });
});

describe('total', () => {
  it('never resets', () => {
    expect(periodWindow('total', at('2026-11-22T00:00:00Z'))).toEqual({ key: 'total', resetsAt: null });
  });
});

describe('periodOfKey', () => {
  it('recovers the kind of period from a key', () => {
    expect(periodOfKey('2026-11-22')).toBe('daily');
    expect(periodOfKey('2026-W47')).toBe('weekly');
    expect(periodOfKey('2026-11')).toBe('monthly');
    expect(periodOfKey('total')).toBe('total');
  });
});

describe('the same window reused within a minute', () => {
  it('answers each instant with its own period across a boundary, in any order', () => {
    const before = Date.UTC(2026, 11, 31, 23, 59, 59, 999);
    const after = Date.UTC(2027, 0, 1, 0, 0, 0, 0);
    // back and forth, as clocks of tests and of several instances can go
    for (const t of [before, after, before, after - 30_000, after + 59_999]) {
      const fresh = new Date(t);
      const expected = t < after ? '2026-12-31' : '2027-01-01';
      expect(periodWindow('daily', t).key, fresh.toISOString()).toBe(expected);
      expect(periodWindow('monthly', t).key).toBe(t < after ? '2026-12' : '2027-01');
    }
    expect(periodWindow('daily', before).resetsAt).toBe(after);
    expect(periodWindow('daily', after).resetsAt).toBe(Date.UTC(2027, 0, 2));
  });
});
