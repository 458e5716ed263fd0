/**
 * The live tail's body on its own: an opening comment, each matching record as an SSE event, heartbeats,
 * and an end — when the client cancels, when the hub closes (shutdown), or when a client stops reading.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TailHub } from '../../../src/request-log/index.ts';
import { TAIL_OPEN, tailBody } from '../../../src/server/routes/requests/tail.ts';
import type { RequestLogSummaryRow } from '../../../src/store/index.ts';

const row = (id: string, team = 'research'): RequestLogSummaryRow => ({
  id,
  created_at: 0,
  team_id: team,
  key_id: null,
  key_name: null,
  surface: 'chat.completions',
  model: 'm',
  models: 'm',
  status: 200,
  error_code: null,
  error_message: null,
  stream: 0,
  cache: null,
  tags: null,
  input_tokens: 1,
  output_tokens: 2,
  cost_nanos: 3,
  latency_ms: 4,
  overhead_ms: 0.5,
});

const decoder = new TextDecoder();

async function read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value, done } = await reader.read();
  return done ? '<end>' : decoder.decode(value);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('tailBody', () => {
  it('opens with a comment, then sends each record in scope as `event: request`', async () => {
    const hub = new TailHub();
    const reader = tailBody(hub, { team: 'research' }).getReader();
    expect(await read(reader)).toBe(`: ${TAIL_OPEN}\n\n`);
    hub.publish(row('other', 'ops'));
    hub.publish(row('mine'));
    const frame = await read(reader);
    expect(frame).toMatch(/^event: request\nid: mine\ndata: \{.*\}\n\n$/);
    expect(JSON.parse(frame.split('data: ')[1]!)).toMatchObject({
      id: 'mine',
      team: 'research',
      cost_usd: 3e-9,
    });
    await reader.cancel();
    expect(hub.size).toBe(0);
  });

  it('sends a heartbeat comment while nothing happens, and stops it when the client goes', async () => {
    vi.useFakeTimers();
    const hub = new TailHub();
    const reader = tailBody(hub, {}, { heartbeatMs: 1000 }).getReader();
    await read(reader);
    vi.advanceTimersByTime(1000);
    expect(await read(reader)).toBe(': heartbeat\n\n');
    await reader.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends when the hub closes (a shutdown), so a drain is not held open', async () => {
    const hub = new TailHub();
    const reader = tailBody(hub, {}).getReader();
    await read(reader);
    hub.close();
    expect(await read(reader)).toBe('<end>');
    expect(hub.size).toBe(0);
    // A tail opened after the close ends at once.
    const late = tailBody(hub, {}).getReader();
    await read(late);
    expect(await read(late)).toBe('<end>');
  });

  it('lets go of a client that stops reading, rather than buffering without end', async () => {
    const hub = new TailHub();
    const reader = tailBody(hub, {}, { maxBacklog: 5 }).getReader();
    for (let i = 0; i < 20; i++) hub.publish(row(`r${i}`));
    expect(hub.size).toBe(0);
    const frames: string[] = [];
    for (let f = await read(reader); f !== '<end>'; f = await read(reader)) frames.push(f);
    // The opening comment and the records queued before the backlog was full.
    expect(frames.length).toBeLessThanOrEqual(7);
  });
});
