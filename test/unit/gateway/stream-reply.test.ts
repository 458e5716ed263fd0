/**
 * The streamed reply's ending: a source that stops without saying how its answer ended is a cut
 * answer, told to the client as upstream_failed (upstream_timeout when the deadline cut it) — never
 * as a finishing chunk with `stop`.
 */
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../src/chat/index.ts';
import type { GatewayError } from '../../../src/errors/index.ts';
import { streamChunks, streamFailure } from '../../../src/gateway/replies/index.ts';

async function run(events: StreamEvent[], timedOut = false) {
  const [first, ...rest] = events;
  let cleaned = 0;
  const chunks: any[] = [];
  const stream = streamChunks(
    {
      first: first!,
      rest: (async function* () {
        yield* rest;
      })(),
    },
    {
      id: 'chatcmpl-t',
      created: 1,
      model: 'm',
      includeUsage: false,
      finish: (usage) => ({ usage, quorum: { request_id: 't', cost_usd: 0, attempts: [] } }),
      describeFailure: (err) => streamFailure('m', err, timedOut),
      cleanup: () => {
        cleaned++;
      },
    },
  );
  try {
    for await (const c of stream) chunks.push(c);
    return { chunks, error: undefined, cleaned };
  } catch (err) {
    return { chunks, error: err as GatewayError, cleaned };
  }
}

const finishes = (chunks: any[]) => chunks.map((c) => c.choices?.[0]?.finish_reason).filter(Boolean);

describe('streamChunks endings', () => {
  it('a source with its finish reason ends with the finishing chunk', async () => {
    const { chunks, error } = await run([
      { type: 'text', text: 'hi' },
      { type: 'finish', reason: 'length' },
    ]);
    expect(error).toBeUndefined();
    expect(finishes(chunks)).toEqual(['length']);
  });

  it('a source that stops without a finish reason fails with upstream_failed and no finishing chunk', async () => {
    const { chunks, error, cleaned } = await run([
      { type: 'model', model: 'x' },
      { type: 'text', text: 'half an ans' },
    ]);
    expect(finishes(chunks)).toEqual([]);
    expect(error).toMatchObject({ code: 'upstream_failed', status: 502 });
    expect(error!.message).toMatch(/finish reason/);
    expect(cleaned).toBe(1);
  });

  it('the same, cut by the deadline, fails with upstream_timeout', async () => {
    const { chunks, error } = await run([{ type: 'text', text: 'half' }], true);
    expect(finishes(chunks)).toEqual([]);
    expect(error).toMatchObject({ code: 'upstream_timeout', status: 504 });
  });

  it('an error of our own is not quoted to the client', () => {
    const err = streamFailure('m', new TypeError('cannot read x of undefined at /srv/secret.ts'), false);
    expect(err.code).toBe('upstream_failed');
    expect(err.message).not.toMatch(/undefined|secret/);
  });
});
