/**
 * The run's cost cap: holds are checked and taken in one step, so calls that start together cannot pass
 * the cap together; a settled hold becomes what the call cost and wakes the calls waiting for room.
 */
import { describe, expect, it } from 'vitest';
import { CostCap, formatNanos } from '../../../../src/workflows/engine/cost-cap.ts';

describe('CostCap', () => {
  it('holds what fits beside what is spent and held, and refuses the rest', () => {
    const cap = new CostCap(0.005, 0.001);
    const a = cap.tryHold(0.002);
    const b = cap.tryHold(0.002);
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(cap.tryHold(0.000000001)).toBeNull();
    expect(cap.heldNanos).toBe(4_000_000);
    expect(cap.roomNanos).toBe(4_000_000);
    a!.settle(0.0015);
    a!.settle(0.0015); // idempotent
    expect(cap.spentNanos).toBe(2_500_000);
    expect(cap.heldNanos).toBe(2_000_000);
    expect(cap.tryHold(0.0005)).not.toBeNull();
  });

  it('rounds as budgets do: the cap down, holds and charges up, so the total never passes the cap', () => {
    const cap = new CostCap(0.0000000019); // 1.9 nanos: 1 nano of room
    expect(cap.capNanos).toBe(1);
    expect(cap.tryHold(0.0000000011)).toBeNull(); // 1.1 nanos holds 2
    const hold = cap.tryHold(0.000000001)!;
    hold.settle(0.000000001);
    expect(cap.spentNanos).toBe(1);
  });

  it('wakes waiters when a hold settles, and rejects a waiter whose call is aborted', async () => {
    const cap = new CostCap(1);
    const hold = cap.tryHold(1)!;
    const woken = cap.released(new AbortController().signal);
    const abort = new AbortController();
    const cancelled = cap.released(abort.signal);
    abort.abort(new Error('cancelled'));
    await expect(cancelled).rejects.toThrow('cancelled');
    hold.settle(0.25);
    await expect(woken).resolves.toBeUndefined();
    expect(cap.roomNanos).toBe(750_000_000);
  });

  it('prints nano-exact dollars without exponents', () => {
    expect(formatNanos(4_010_000)).toBe('$0.00401');
    expect(formatNanos(1)).toBe('$0.000000001');
    expect(formatNanos(0)).toBe('$0');
    expect(formatNanos(12_500_000_000)).toBe('$12.5');
  });
});
