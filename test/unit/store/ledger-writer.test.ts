import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LedgerWriter } from '../../../src/store/ledger-writer.ts';

/** A sink that records every batch, and fails while `down` is set. */
function sink() {
  const batches: number[][] = [];
  const state = { down: false, calls: 0 };
  const write = async (rows: number[]) => {
    state.calls++;
    await Promise.resolve();
    if (state.down) throw new Error('database down');
    batches.push([...rows]);
  };
  return { batches, state, write, written: () => batches.flat() };
}

describe('LedgerWriter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('appends synchronously and writes nothing until the interval passes', async () => {
    const s = sink();
    const writer = new LedgerWriter(s.write, { flushIntervalMs: 250 });
    writer.append(1);
    writer.append(2);
    expect(writer.pending).toBe(2);
    await vi.advanceTimersByTimeAsync(249);
    expect(s.state.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.batches).toEqual([[1, 2]]);
    expect(writer.pending).toBe(0);
  });

  it('writes a full batch at once, and flush() drains in batches of batchSize', async () => {
    const s = sink();
    const writer = new LedgerWriter(s.write, { flushIntervalMs: 60_000, batchSize: 500 });
    for (let i = 0; i < 500; i++) writer.append(i);
    await vi.advanceTimersByTimeAsync(0);
    expect(s.batches.map((b) => b.length)).toEqual([500]);

    for (let i = 500; i < 1700; i++) writer.append(i);
    await writer.flush();
    expect(s.batches.map((b) => b.length)).toEqual([500, 500, 500, 200]);
    expect(s.written()).toEqual(Array.from({ length: 1700 }, (_, i) => i));
  });

  it('keeps rows through failed writes, reports them, and retries with backoff', async () => {
    const s = sink();
    const onError = vi.fn();
    const writer = new LedgerWriter(s.write, { flushIntervalMs: 100, onError });
    s.state.down = true;
    writer.append(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(writer.pending).toBe(1);
    writer.append(2); // traffic during the outage does not hasten the retry
    await vi.advanceTimersByTimeAsync(199); // backoff 100 × 2^1
    expect(onError).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(onError).toHaveBeenCalledTimes(2);
    await expect(writer.flush()).rejects.toThrow('database down');

    writer.append(3);
    s.state.down = false;
    await vi.advanceTimersByTimeAsync(400); // backoff 100 × 2^2
    expect(s.batches).toEqual([[1, 2, 3]]);
    expect(writer.pending).toBe(0);
    expect(onError).toHaveBeenCalledTimes(2);
  });

  it('shares one write between concurrent flushes (no row written twice)', async () => {
    const s = sink();
    const writer = new LedgerWriter(s.write, { flushIntervalMs: 60_000, batchSize: 2 });
    for (let i = 0; i < 5; i++) writer.append(i);
    await Promise.all([writer.flush(), writer.flush(), writer.flush()]);
    expect(s.written()).toEqual([0, 1, 2, 3, 4]);
  });

  it('flush waits only for rows appended before it', async () => {
    const s = sink();
    const writer = new LedgerWriter(s.write, { flushIntervalMs: 60_000, batchSize: 1 });
    writer.append(1);
    const flushed = writer.flush();
    writer.append(2);
    await flushed;
    expect(s.written()).toContain(1);
  });

  it('drops rows beyond maxBuffered while writes fail, reporting once', async () => {
    const s = sink();
    const onError = vi.fn();
    const writer = new LedgerWriter(s.write, { flushIntervalMs: 60_000, maxBuffered: 3, onError });
    s.state.down = true;
    for (let i = 0; i < 10; i++) writer.append(i);
    expect(writer.pending).toBe(3);
    expect(writer.dropped).toBe(7);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(String(onError.mock.calls[0]?.[0])).toContain('ledger buffer full');
    s.state.down = false;
    await writer.flush();
    expect(s.written()).toEqual([0, 1, 2]);
  });

  it('close flushes, stops the timer, and reports rows appended afterwards', async () => {
    const s = sink();
    const onError = vi.fn();
    const writer = new LedgerWriter(s.write, { flushIntervalMs: 250, onError });
    writer.append(1);
    await writer.close();
    expect(s.batches).toEqual([[1]]);
    expect(vi.getTimerCount()).toBe(0);
    writer.append(2);
    expect(writer.pending).toBe(0);
    expect(String(onError.mock.calls[0]?.[0])).toContain('closed');
  });
});

describe('LedgerWriter timer', () => {
  it('never keeps the process alive', async () => {
    const module = fileURLToPath(new URL('../../../src/store/ledger-writer.ts', import.meta.url));
    const script = `import { LedgerWriter } from ${JSON.stringify(module)};
      const writer = new LedgerWriter(async () => {}, { flushIntervalMs: 60000 });
      writer.append(1);`;
    // The child exits on its own with its 60 s flush timer pending; one kept alive is killed, and rejects.
    const child = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 10_000,
    });
    await expect(child).resolves.toMatchObject({ stdout: '' });
  });
});
