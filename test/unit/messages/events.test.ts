/** A translated stream's chat chunks as Anthropic's event sequence. */
import { describe, expect, it } from 'vitest';
import { messageBody, messageEvents } from '../../../src/messages/index.ts';

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  choices: [{ index: 0, delta, finish_reason: null }],
  ...extra,
});
const finish = (reason: string) => ({ choices: [{ index: 0, delta: {}, finish_reason: reason }] });
const usage = { prompt_tokens: 30, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 10 } };

async function* from(chunks: Record<string, unknown>[], state: { closed: boolean }, fail?: Error) {
  try {
    for (const c of chunks) yield c;
    if (fail) throw fail;
  } finally {
    state.closed = true;
  }
}

async function events(chunks: Record<string, unknown>[]) {
  const out: { event: string; data: any }[] = [];
  for await (const frame of messageEvents('msg_1', 'oa-model', from(chunks, { closed: false }))) {
    const [eventLine, dataLine] = frame.trimEnd().split('\n');
    out.push({
      event: eventLine!.slice('event: '.length),
      data: JSON.parse(dataLine!.slice('data: '.length)),
    });
  }
  return out;
}

describe('messageEvents', () => {
  it('text, then two tool calls: one block each, numbered in order, then the stop reason and usage', async () => {
    const out = await events([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Let me ' }),
      chunk({ content: 'check.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'a', arguments: '' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({
        tool_calls: [{ index: 1, id: 'c2', type: 'function', function: { name: 'b', arguments: '{}' } }],
      }),
      finish('tool_calls'),
      { choices: [], usage, quorum: { request_id: 'r' } },
    ]);
    expect(out.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(out[0]!.data.message).toMatchObject({
      id: 'msg_1',
      model: 'oa-model',
      role: 'assistant',
      content: [],
    });
    expect(out[1]!.data).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    expect(out[5]!.data).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'c1', name: 'a', input: {} },
    });
    expect(out[7]!.data.delta).toEqual({ type: 'input_json_delta', partial_json: '1}' });
    expect(out[9]!.data).toMatchObject({ index: 2, content_block: { id: 'c2', name: 'b' } });
    expect(out[12]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 10,
        output_tokens: 9,
      },
      quorum: { request_id: 'r' },
    });
  });

  it("message_start names the first chunk's model (a fan-out's selected one), not the request's list", async () => {
    const out = await events([{ model: 'demo-smart', ...chunk({ content: 'x' }) }, finish('stop')]);
    expect(out[0]!.data.message.model).toBe('demo-smart');
  });

  it('a failure passes through, and the chunks are closed', async () => {
    const state = { closed: false };
    const stream = messageEvents(
      'msg_1',
      'oa-model',
      from([chunk({ content: 'x' })], state, new Error('cut')),
    );
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const frame of stream) seen.push(frame);
      })(),
    ).rejects.toThrow('cut');
    expect(seen.some((f) => f.startsWith('event: message_stop'))).toBe(false);
    expect(state.closed).toBe(true);
  });

  it('leaving early closes the chunks (the upstream call ends, the request settles)', async () => {
    const state = { closed: false };
    const stream = messageEvents(
      'msg_1',
      'oa-model',
      from([chunk({ content: 'a' }), chunk({ content: 'b' })], state),
    );
    await stream.next();
    await stream.next();
    await stream.return(undefined);
    expect(state.closed).toBe(true);
  });
});

describe('messageBody', () => {
  it("keeps a model's unparsable tool arguments instead of dropping them", () => {
    const body = messageBody('msg_1', {
      model: 'oa-model',
      choices: [
        {
          message: {
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"broken' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 1 },
      quorum: {},
    });
    expect(body.content).toEqual([
      { type: 'tool_use', id: 'c', name: 'f', input: { arguments: '{"broken' } },
    ]);
    expect(body.stop_reason).toBe('tool_use');
  });
});
