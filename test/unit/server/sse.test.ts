/**
 * The SSE body of a chat stream: every chunk a `data:` frame, then `[DONE]`; a failure after the first
 * byte is an `error` event and `[DONE]`; a client that leaves closes the chunks (which ends the
 * upstream call and settles the request), and the end is reported once however it came.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors/index.ts';
import { sseBody } from '../../../src/server/sse.ts';

function source(chunks: Record<string, unknown>[], failAfter?: number) {
  const state = { closed: 0 };
  async function* gen() {
    try {
      for (const [i, c] of chunks.entries()) {
        if (i === failAfter) throw new GatewayError('upstream_failed', 'The stream from m failed.');
        yield c;
      }
      if (failAfter === chunks.length) throw new GatewayError('upstream_failed', 'The stream from m failed.');
    } finally {
      state.closed++;
    }
  }
  return { chunks: gen(), state };
}

/** Chunks as a live upstream sends them: each a little after the one before. */
function paced(chunks: Record<string, unknown>[]) {
  const state = { closed: 0 };
  async function* gen() {
    try {
      for (const c of chunks) {
        await new Promise((r) => setTimeout(r, 5));
        yield c;
      }
    } finally {
      state.closed++;
    }
  }
  return { chunks: gen(), state };
}

async function read(body: ReadableStream<Uint8Array>) {
  return new Response(body).text();
}

describe('sseBody', () => {
  it('writes each chunk as a data frame, then [DONE], and reports a clean end once', async () => {
    const ends: unknown[] = [];
    const { chunks, state } = source([{ a: 1 }, { b: 'x"y' }]);
    const text = await read(
      sseBody(chunks, { onEnd: (error, cancelled) => ends.push({ error, cancelled }) }),
    );
    expect(text).toBe('data: {"a":1}\n\ndata: {"b":"x\\"y"}\n\ndata: [DONE]\n\n');
    expect(ends).toEqual([{ error: null, cancelled: false }]);
    expect(state.closed).toBe(1);
  });

  it('ends a failing stream with an error event and [DONE]', async () => {
    const ends: { error: GatewayError | null }[] = [];
    const { chunks } = source([{ a: 1 }, { a: 2 }], 1);
    const text = await read(sseBody(chunks, { onEnd: (error) => ends.push({ error }) }));
    expect(text).toMatch(
      /^data: \{"a":1\}\n\nevent: error\ndata: \{"error":\{.*"code":"upstream_failed".*\}\}\n\ndata: \[DONE\]\n\n$/s,
    );
    expect(ends).toHaveLength(1);
    expect(ends[0]!.error?.code).toBe('upstream_failed');
  });

  it('closes the chunks when a frame cannot be written, and tells the client', async () => {
    const { chunks, state } = source([{ a: 1 }, { a: 2 }, { a: 3 }]);
    let n = 0;
    const text = await read(
      sseBody(chunks, {
        onEnd: () => {},
        frame: (c) => {
          if (++n === 2) throw new Error('cannot write');
          return `data: ${JSON.stringify(c)}\n\n`;
        },
      }),
    );
    expect(text.startsWith('data: {"a":1}\n\nevent: error\n')).toBe(true);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(state.closed).toBe(1);
  });

  it('closes the chunks when the client leaves, and reports it as cancelled', async () => {
    const ends: unknown[] = [];
    const { chunks, state } = paced([{ a: 1 }, { a: 2 }, { a: 3 }]);
    const reader = sseBody(chunks, {
      onEnd: (error, cancelled) => ends.push({ error, cancelled }),
    }).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: {"a":1}\n\n');
    await reader.cancel();
    expect(state.closed).toBe(1);
    expect(ends).toEqual([{ error: null, cancelled: true }]);
  });

  it('writes the frames of one turn together, and a later frame on its own, at once', async () => {
    // Three chunks ready together (one upstream read), then one after a pause: two writes.
    async function* upstream() {
      yield { a: 1 };
      yield { a: 2 };
      yield { a: 3 };
      await new Promise((r) => setTimeout(r, 20));
      yield { a: 4 };
    }
    const reader = sseBody(upstream(), { onEnd: () => {} }).getReader();
    const decode = (v?: Uint8Array) => new TextDecoder().decode(v);
    expect(decode((await reader.read()).value)).toBe('data: {"a":1}\n\ndata: {"a":2}\n\ndata: {"a":3}\n\n');
    expect(decode((await reader.read()).value)).toBe('data: {"a":4}\n\ndata: [DONE]\n\n');
    expect((await reader.read()).done).toBe(true);
  });

  it('reads no further ahead of a client that does not read', async () => {
    // An upstream that always has the next chunk ready: only the client's reads may hold it back.
    let produced = 0;
    async function* endless() {
      for (;;) {
        produced++;
        yield { n: produced };
        if (produced % 3 === 0) await new Promise((r) => setImmediate(r));
      }
    }
    const reader = sseBody(endless(), { onEnd: () => {} }).getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 50));
    const held = produced;
    expect(held).toBeLessThan(12);
    await new Promise((r) => setTimeout(r, 50));
    expect(produced).toBe(held);
    // Once the client has read what waits, reading resumes.
    for (let i = 0; i < 5 && produced === held; i++) {
      await reader.read();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(produced).toBeGreaterThan(held);
    await reader.cancel();
  });

  it('throws nothing when its own end report fails: the client has its answer', async () => {
    const { chunks, state } = source([{ a: 1 }]);
    const body = sseBody(chunks, {
      onEnd: () => {
        throw new Error('the request log broke');
      },
    });
    // Thrown in a tick, it would end the process (the test runner reports it as an unhandled error).
    expect(await read(body)).toBe('data: {"a":1}\n\ndata: [DONE]\n\n');
    expect(state.closed).toBe(1);
  });

  it('errors the stream and throws nothing when the error frame cannot be written', async () => {
    const { chunks } = source([{ a: 1 }], 1);
    const body = sseBody(chunks, {
      onEnd: () => {},
      errorFrame: () => {
        throw new Error('no frame for this');
      },
    });
    await expect(read(body)).rejects.toThrow('no frame for this');
  });

  it('writes no [DONE] when the surface has none', async () => {
    const { chunks } = source([{ a: 1 }]);
    const text = await read(
      sseBody(chunks, {
        onEnd: () => {},
        done: false,
        frame: (c) => `event: x\ndata: ${JSON.stringify(c)}\n\n`,
      }),
    );
    expect(text).toBe('event: x\ndata: {"a":1}\n\n');
  });
});
