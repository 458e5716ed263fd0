/** A request's account: the charges it sums are the ledger's nanos, so totals print exactly. */
import { describe, expect, it } from 'vitest';
import { type CallRecord, RequestAccount } from '../../../src/gateway/budget/index.ts';

const call = (costUsd: number): CallRecord => ({
  model: 'm',
  provider: 'p',
  usage: { prompt_tokens: 10, completion_tokens: 10 },
  costUsd,
  latencyMs: 1,
  status: 200,
  estimated: false,
});

describe('RequestAccount', () => {
  it('sums calls exactly: 0.0000001 + 0.00000012 is 0.00000022, not 2.1999999999999998e-7', () => {
    expect(0.0000001 + 0.00000012).not.toBe(0.00000022);
    const account = new RequestAccount();
    account.add(call(0.0000001));
    account.add(call(0.00000012));
    expect(account.totalUsd).toBe(0.00000022);
    expect(String(account.totalUsd)).toBe('2.2e-7');
  });

  it('charges each call in whole nano-dollars, rounded up as the ledger rounds', () => {
    const seen: CallRecord[] = [];
    const account = new RequestAccount((r) => seen.push(r));
    // 1 token at $0.0375 per million: 0.0375 nano-dollars.
    account.add(call(0.0000000000375));
    expect(seen[0]!.costUsd).toBe(0.000000001);
    expect(account.totalUsd).toBe(0.000000001);
  });

  it('never charges past the hold, and reports what it did not charge', () => {
    const excess: [number, number][] = [];
    const account = new RequestAccount(undefined, {
      holdUsd: () => 0.00001,
      onExcess: (record, charged) => excess.push([record.costUsd, charged]),
    });
    account.add(call(0.000004));
    account.add(call(2_000_000));
    expect(account.totalUsd).toBe(0.00001);
    expect(excess).toEqual([[2_000_000, 0.000006]]);
  });
});
