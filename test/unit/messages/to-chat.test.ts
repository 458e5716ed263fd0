/** A Messages body as the chat request the pipeline runs, or a 400 naming what cannot be carried. */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors/index.ts';
import { type MessagesRequest, MessagesRequestSchema, toChatRequest } from '../../../src/messages/index.ts';

const TARGET = '`gpt-x` (an openai model)';

function translate(body: Record<string, unknown>) {
  const parsed = MessagesRequestSchema.parse({ model: 'gpt-x', max_tokens: 100, ...body }) as MessagesRequest;
  return toChatRequest(parsed, TARGET);
}

function refusal(body: Record<string, unknown>): GatewayError {
  try {
    translate(body);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected a refusal');
}

describe('toChatRequest', () => {
  it('keeps a multi-block system prompt as one system message, and the sampling options', () => {
    const request = translate({
      system: [
        { type: 'text', text: 'One.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Two.' },
      ],
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.3,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      cache_control: { type: 'ephemeral' },
    });
    expect(request).toEqual({
      model: 'gpt-x',
      max_tokens: 100,
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'One.' },
            { type: 'text', text: 'Two.' },
          ],
        },
        { role: 'user', content: 'Hi' },
      ],
      temperature: 0.3,
      top_p: 0.9,
      stop: ['END'],
      user: 'u-1',
    });
  });

  it('puts tool results in tool messages before the rest of the user turn', () => {
    const request = translate({
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 't1', name: 'weather', input: { city: 'Oslo' } },
            { type: 'tool_use', id: 't2', name: 'time', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'Rain' }] },
            { type: 'tool_result', tool_use_id: 't2', content: 'timeout', is_error: true },
            { type: 'text', text: 'Summarise.' },
          ],
        },
      ],
    });
    expect(request.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 't1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 't2', type: 'function', function: { name: 'time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 't1', content: 'Rain' },
      { role: 'tool', tool_call_id: 't2', content: 'Error: timeout' },
      { role: 'user', content: [{ type: 'text', text: 'Summarise.' }] },
    ]);
  });

  it('maps tools, tool_choice and a JSON output format', () => {
    const request = translate({
      messages: [{ role: 'user', content: 'x' }],
      tools: [
        {
          name: 'f',
          description: 'does f',
          input_schema: { type: 'object' },
          cache_control: { type: 'ephemeral' },
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
    });
    expect(request.tools).toEqual([
      { type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object' } } },
    ]);
    expect(request.tool_choice).toBe('required');
    expect(request.parallel_tool_calls).toBe(false);
    expect(request.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema: { type: 'object' }, strict: true },
    });
    expect(
      translate({ messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'tool', name: 'f' } })
        .tool_choice,
    ).toEqual({
      type: 'function',
      function: { name: 'f' },
    });
  });

  it('streams with the usage chunk the Messages stream ends with', () => {
    const request = translate({ messages: [{ role: 'user', content: 'x' }], stream: true });
    expect(request.stream).toBe(true);
    expect(request.stream_options).toEqual({ include_usage: true });
  });

  it('keeps several assistant text blocks apart, and a PDF as a file part', () => {
    const request = translate({
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'document',
              title: 'a.pdf',
              source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' },
            },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'One.' },
            { type: 'text', text: 'Two.' },
          ],
        },
      ],
    });
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'One.' },
          { type: 'text', text: 'Two.' },
        ],
      },
    ]);
  });

  it.each([
    ['thinking enabled', { thinking: { type: 'enabled', budget_tokens: 1000 } }, 'thinking'],
    ['adaptive thinking', { thinking: { type: 'adaptive' } }, 'thinking'],
    [
      'a redacted thinking block',
      { messages: [{ role: 'assistant', content: [{ type: 'redacted_thinking', data: 'x' }] }] },
      'messages[0].content[0]',
    ],
    ['top_k', { top_k: 40 }, 'top_k'],
    ['max_tokens 0', { max_tokens: 0 }, 'max_tokens'],
    ['five stop sequences', { stop_sequences: ['a', 'b', 'c', 'd', 'e'] }, 'stop_sequences'],
    ['an effort level', { output_config: { effort: 'high' } }, 'output_config.effort'],
    [
      'a tool option with no chat equivalent',
      { tools: [{ name: 'f', input_schema: {}, defer_loading: true }] },
      'tools[0].defer_loading',
    ],
    [
      'an image from the Files API',
      { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f1' } }] }] },
      'messages[0].content[0].source',
    ],
    [
      'an image inside a tool result',
      {
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't',
                content: [{ type: 'image', source: { type: 'url', url: 'u' } }],
              },
            ],
          },
        ],
      },
      'messages[0].content[0].content[0]',
    ],
    ['mcp servers', { mcp_servers: [] }, 'mcp_servers'],
  ])('refuses %s, naming the field and the model', (_name, body, param) => {
    const err = refusal({ messages: [{ role: 'user', content: 'x' }], ...body });
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message.startsWith(`${param}: `)).toBe(true);
    expect(err.message).toContain(TARGET);
  });

  it.each([
    ['a non-block inside a document', [null], 'messages[0].content[0].source.content[0]'],
    ['a document content that is no list', { constructor: {} }, 'messages[0].content[0].source.content'],
    [
      'a text block without text inside a document',
      [{ type: 'text', text: { toString: 'x' } }],
      'messages[0].content[0].source.content[0].text',
    ],
  ])('a 400, never a crash, for %s', (_name, content, param) => {
    const err = refusal({
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'content', content } }] }],
    });
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
  });

  it('names a hostile source type without calling anything on it', () => {
    const err = refusal({
      messages: [
        { role: 'user', content: [{ type: 'image', source: { type: 'file', url: { toString: 'x' } } }] },
      ],
    });
    expect(err.param).toBe('messages[0].content[0].source');
  });

  it('allows thinking that is disabled', () => {
    expect(
      translate({ messages: [{ role: 'user', content: 'x' }], thinking: { type: 'disabled' } }).messages,
    ).toHaveLength(1);
  });
});
