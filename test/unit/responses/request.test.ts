/** A Responses request as the gateway's chat request: what each field becomes, and what is refused. */
import { describe, expect, it } from 'vitest';
import { ChatRequestSchema } from '../../../src/chat/index.ts';
import { GatewayError } from '../../../src/errors/index.ts';
import { type Item, planResponse, ResponseCreateSchema } from '../../../src/responses/index.ts';

const plan = (body: Record<string, unknown>, history: Item[] = []) =>
  planResponse(ResponseCreateSchema.parse({ model: 'm', ...body }), history);

const refusal = (body: Record<string, unknown>) => {
  try {
    plan(body);
  } catch (err) {
    if (err instanceof GatewayError) return { status: err.status, param: err.param, message: err.message };
    throw err;
  }
  throw new Error('not refused');
};

const TOOL = { type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } };

describe('planResponse', () => {
  it('puts instructions first, then the history, then the new input; the result is a valid chat request', () => {
    const history = plan({ input: 'first question' }).input;
    history.push({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: 'first answer', annotations: [] }],
    });
    const { chat } = plan({ instructions: 'Be terse.', input: 'second question' }, history);
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ]);
    expect(ChatRequestSchema.safeParse(chat).success).toBe(true);
  });

  it('joins an assistant text and the function calls after it into one message, outputs as tool messages', () => {
    const { chat } = plan({
      input: [
        { role: 'user', content: 'go' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Looking.' }] },
        { type: 'function_call', call_id: 'c1', name: 'lookup', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 'lookup', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
      ],
      tools: [TOOL],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: 'Looking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 'lookup', arguments: '{"a":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'tool', tool_call_id: 'c2', content: 'two' },
    ]);
  });

  it('maps images, files and roles of message content', () => {
    const { chat, input } = plan({
      input: [
        { role: 'developer', content: [{ type: 'input_text', text: 'rules' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'look' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'original' },
            { type: 'input_file', file_data: 'data:application/pdf;base64,AAAA', filename: 'a.pdf' },
          ],
        },
      ],
    });
    expect(chat.messages[0]).toEqual({ role: 'developer', content: 'rules' });
    expect(chat.messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'high' } },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,AAAA', filename: 'a.pdf' } },
      ],
    });
    // Stored items carry ids and statuses, as input_items lists them.
    expect(input.map((i) => [i.id.slice(0, 4), i.status])).toEqual([
      ['msg_', 'completed'],
      ['msg_', 'completed'],
    ]);
  });

  it('passes the settings chat has, under their chat names, and only those set', () => {
    const { chat } = plan({
      input: 'hi',
      max_output_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      user: 'u-1',
      reasoning: { effort: 'low', summary: 'auto' },
      text: {
        format: { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true },
        verbosity: 'low',
      },
      parallel_tool_calls: false,
      service_tier: 'flex',
      metadata: { a: 'b' },
      store: false,
      quorum: { cache: false },
    });
    expect(chat).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: false,
      max_completion_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      user: 'u-1',
      reasoning_effort: 'low',
      verbosity: 'low',
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'x', schema: { type: 'object' }, strict: true },
      },
      parallel_tool_calls: false,
      service_tier: 'flex',
      quorum: { cache: false },
    });
  });

  it('maps tool choices; allowed_tools narrows the tools the model sees', () => {
    const other = { ...TOOL, name: 'other' };
    expect(
      plan({ input: 'x', tools: [TOOL, other], tool_choice: { type: 'function', name: 'other' } }).chat
        .tool_choice,
    ).toEqual({
      type: 'function',
      function: { name: 'other' },
    });
    const narrowed = plan({
      input: 'x',
      tools: [TOOL, other],
      tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'other' }] },
    }).chat;
    expect(narrowed.tools?.map((t) => t.function.name)).toEqual(['other']);
    expect(narrowed.tool_choice).toBe('required');
  });

  it.each([
    [
      { input: 'x', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] },
      'tools[0].type',
      /file_search/,
    ],
    [{ input: 'x', tools: [TOOL, TOOL] }, 'tools[1].name', /second tool/],
    [{ input: 'x', tool_choice: 'required' }, 'tool_choice', /at least one/],
    [
      { input: 'x', tools: [TOOL], tool_choice: { type: 'mcp', server_label: 's' } },
      'tool_choice.type',
      /mcp/,
    ],
    [
      { input: [{ type: 'item_reference', id: 'msg_1' }] },
      'input[0].type',
      /item_reference.*`message`, `function_call`/,
    ],
    [
      { input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://x/a.pdf' }] }] },
      'input[0].content[0].file_data',
      /file_data/,
    ],
    [
      { input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'https://x' }] }] },
      'input[0].content[0].type',
      /assistant/,
    ],
    [{ input: 'x', truncation: 'auto' }, 'truncation', /auto/],
    [
      { input: 'x', include: ['reasoning.encrypted_content', 'message.output_text.logprobs'] },
      'include[1]',
      /log prob/,
    ],
    [{ input: 'x', top_logprobs: 3 }, 'top_logprobs', /log prob/],
  ])('refuses %j naming %s', (body, param, message) => {
    const err = refusal(body);
    expect(err).toMatchObject({ status: 400, param });
    expect(err.message).toMatch(message);
  });

  it('takes what clients such as Codex always send: reasoning summaries, include of encrypted reasoning, store false', () => {
    const { chat, echo } = plan({
      input: 'x',
      store: false,
      include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'medium', summary: 'auto' },
      prompt_cache_key: 'session-1',
      stream: true,
      stream_options: { include_obfuscation: false },
    });
    expect(chat).toMatchObject({ stream: true, reasoning_effort: 'medium', prompt_cache_key: 'session-1' });
    expect(echo).toMatchObject({ store: false, reasoning: { effort: 'medium', summary: 'auto' } });
  });
});
