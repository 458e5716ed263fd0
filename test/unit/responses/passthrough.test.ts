/**
 * A Responses request passed through raw: the body its upstream receives (only `quorum`, `store` and a
 * follow-up's `previous_response_id`/`input` edited, every other byte kept), what Quorum stores of its
 * input, and what its budget hold is priced on.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors/index.ts';
import { planPassthrough, type ResponsePass, ResponsePassSchema } from '../../../src/responses/index.ts';

const plan = (text: string, history: unknown[] = []) =>
  planPassthrough(text, ResponsePassSchema.parse(JSON.parse(text)) as ResponsePass, history);

const HISTORY = [
  { id: 'msg_a', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Q1' }] },
  { id: 'rs_1', type: 'reasoning', summary: [] },
  { id: 'rs_2', type: 'reasoning', summary: [], encrypted_content: 'enc' },
  {
    id: 'msg_b',
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: 'A1', annotations: [] }],
  },
];
const REPLAYED =
  '{"type":"message","role":"user","content":[{"type":"input_text","text":"Q1"}]},' +
  '{"type":"reasoning","summary":[],"encrypted_content":"enc"},' +
  '{"type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"A1","annotations":[]}]}';

describe('the body sent upstream', () => {
  it('is the client’s text with `store: false`, and without `quorum`', () => {
    expect(plan('{"model":"m", "input":"hi"}').body).toBe('{"model":"m", "input":"hi","store":false}');
    expect(plan('{"model":"m","quorum":{"fallbacks":[]},"store":true, "n": 1.50}').body).toBe(
      '{"model":"m","store":false, "n": 1.50}',
    );
  });

  it('replays a conversation ahead of a string input, kept byte for byte, and drops previous_response_id', () => {
    const text = '{"model":"m","previous_response_id":"resp_1","input":"caf\\u00e9?"}';
    expect(plan(text, HISTORY).body).toBe(
      `{"model":"m","input":[${REPLAYED},{"role":"user","content":"caf\\u00e9?"}],"store":false}`,
    );
  });

  it('replays it ahead of an item list (the items as sent), or alone', () => {
    const items = '[ {"type":"function_call_output","call_id":"c","output":"{\\"ok\\":1}"} ]';
    expect(plan(`{"model":"m","input":${items},"previous_response_id":"resp_1"}`, HISTORY).body).toBe(
      `{"model":"m","input":[${REPLAYED},{"type":"function_call_output","call_id":"c","output":"{\\"ok\\":1}"}],"store":false}`,
    );
    expect(plan('{"model":"m","input":[],"previous_response_id":"resp_1"}', HISTORY).body).toBe(
      `{"model":"m","input":[${REPLAYED}],"store":false}`,
    );
    expect(plan('{"previous_response_id":"resp_1","model":"m"}', HISTORY).body).toBe(
      `{"model":"m","input":[${REPLAYED}],"store":false}`,
    );
  });

  it('refuses what needs the upstream to keep state: background mode, a hosted conversation', () => {
    expect(() => plan('{"model":"m","input":"x","background":true}')).toThrow(GatewayError);
    expect(() => plan('{"model":"m","input":"x","conversation":"conv_1"}')).toThrow(/conversation/);
  });
});

describe('the input stored', () => {
  it('gives messages, function calls and outputs the ids input_items lists them by, a string content its part', () => {
    const { input } = plan(
      JSON.stringify({
        model: 'm',
        input: [
          { role: 'developer', content: 'Be brief.' },
          { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
          { type: 'function_call_output', id: 'fco_mine', call_id: 'c', output: 'ok' },
          { type: 'item_reference', id: 'ws_1' },
        ],
      }),
    );
    expect(input).toEqual([
      {
        id: expect.stringMatching(/^msg_[0-9a-f]{48}$/),
        type: 'message',
        role: 'developer',
        content: [{ type: 'input_text', text: 'Be brief.' }],
      },
      { id: expect.stringMatching(/^fc_/), type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
      { id: 'fco_mine', type: 'function_call_output', call_id: 'c', output: 'ok' },
      { type: 'item_reference', id: 'ws_1' },
    ]);
    expect(plan('{"model":"m","input":"hi"}').input).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: 'hi' }],
      },
    ]);
  });
});

describe('the budget bounds', () => {
  it('count the conversation, the input, tools and a JSON schema, and take max_output_tokens', () => {
    const alone = plan('{"model":"m","input":"hi"}').bounds;
    expect(alone.maxOutputTokens).toBeNull();
    const long = 'word '.repeat(400);
    const followUp = plan('{"model":"m","input":"hi","previous_response_id":"r","max_output_tokens":50}', [
      { type: 'message', role: 'user', content: long },
    ]).bounds;
    expect(followUp.promptTokens).toBeGreaterThan(alone.promptTokens + 300);
    expect(followUp.maxOutputTokens).toBe(50);
    const tooled = plan(
      JSON.stringify({
        model: 'm',
        input: 'hi',
        tools: [{ type: 'function', name: 'f', parameters: { type: 'object', description: long } }],
        text: { format: { type: 'json_schema', name: 's', schema: { description: long } } },
      }),
    ).bounds;
    expect(tooled.promptTokens).toBeGreaterThan(alone.promptTokens + 600);
    expect(tooled.promptTokensMax).toBeGreaterThanOrEqual(tooled.promptTokens);
  });

  it('count fields that should have been strings but are objects as their JSON, never failing on them', () => {
    // An object with its own toString member: String() would call it and throw (a fuzzer found it).
    const hostile = { toString: 'x'.repeat(400) };
    const bounds = plan(
      JSON.stringify({
        model: 'm',
        input: [
          { type: 'message', role: hostile, content: 'hi' },
          { type: 'function_call', call_id: 'c', name: hostile, arguments: hostile },
        ],
      }),
    ).bounds;
    const plain = plan(
      JSON.stringify({
        model: 'm',
        input: [
          { type: 'message', role: 'user', content: 'hi' },
          { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
        ],
      }),
    ).bounds;
    expect(bounds.promptTokens).toBeGreaterThan(plain.promptTokens + 100);
  });
});
