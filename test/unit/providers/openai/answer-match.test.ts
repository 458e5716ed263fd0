/**
 * Whole text answers in OpenAI's compact shape are matched instead of parsed. Whatever an answer holds —
 * any text, finish reason, usage details in any order, any damage — the result must be exactly what
 * parsing it gives, or the same refusal. The reference is the same answer with a leading space, which
 * JSON ignores and the match does not accept.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCompletion, readCompletion, toChatResult } from '../../../../src/providers/openai/response.ts';
import { damaged, pick, seeded, randomText as text } from '../../helpers/random-text.ts';

const count = (random: () => number) => pick(random, [0, 0, 1, 7, 38, 1024, 2 ** 40]);

/** Usage details with `key` first, later, twice or absent, among other counts. */
function detailsJson(random: () => number, key: string): string {
  const members = [`"audio_tokens":${count(random)}`, `"accepted_prediction_tokens":${count(random)}`].slice(
    0,
    Math.floor(random() * 3),
  );
  const where = random();
  if (where < 0.5) members.unshift(`"${key}":${count(random)}`);
  else if (where < 0.7) members.push(`"${key}":${count(random)}`);
  else if (where < 0.8) members.push(`"${key}":${count(random)}`, `"${key}":${count(random)}`);
  return `{${members.join(',')}}`;
}

/** An answer as OpenAI writes it, each optional member present or not. */
function openaiAnswer(random: () => number): string {
  const maybe = (s: string) => (random() < 0.5 ? s : '');
  const p = count(random);
  const c = count(random);
  const finish = pick(random, [
    'stop',
    'length',
    'content_filter',
    'tool_calls',
    'function_call',
    text(random, 6),
  ]);
  return (
    `{"id":"chatcmpl-${Math.floor(random() * 1e9)}","object":"chat.completion","created":${Math.floor(random() * 2e9)},` +
    `"model":${JSON.stringify(random() < 0.1 ? text(random) : 'gpt-4o-mini-2024-07-18')},` +
    `"choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(text(random, 40))},"refusal":null${maybe(',"annotations":[]')}},` +
    `${maybe('"logprobs":null,')}"finish_reason":${JSON.stringify(finish)}}],` +
    `"usage":{"prompt_tokens":${p},"completion_tokens":${c},"total_tokens":${p + c}` +
    `${maybe(`,"prompt_tokens_details":${detailsJson(random, 'cached_tokens')}`)}` +
    `${maybe(`,"completion_tokens_details":${detailsJson(random, 'reasoning_tokens')}`)}}` +
    `${maybe(',"service_tier":"default"')}${maybe(pick(random, [',"system_fingerprint":"fp_fake"', ',"system_fingerprint":null']))}}`
  );
}

/** Answers of other shapes: a refusal, no text, tool calls, another order, spaces, details of another kind. */
function otherAnswers(random: () => number): string[] {
  const head = '{"id":"c","object":"chat.completion","created":1,"model":"m",';
  const usage = '"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}';
  return [
    `${head}"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"no"},"finish_reason":"stop"}],${usage}`,
    `${head}"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}],"refusal":null},"finish_reason":"tool_calls"}],${usage}`,
    `${head}"choices":[],${usage}`,
    `{"object":"chat.completion","id":"c","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"finish_reason":"stop"}],${usage}`,
    `{ "id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": ${JSON.stringify(text(random))}, "refusal": null}, "finish_reason": "stop"}], ${usage}`,
    `${head}"choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":null}}`,
    `${head}"choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":1.5}}}`,
    `${head}"choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":-3,"completion_tokens":2,"total_tokens":5}}`,
    `${head}"choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"finish_reason":null}],${usage}`,
    `${head}"choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"finish_reason":"stop"}],"usage":null}`,
    // Escapes in the model and the finish reason are read as parsing reads them.
    `{"id":"c","object":"chat.completion","created":1,"model":"g\\u0070t","choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"finish_reason":"\\u006cength"}],${usage}`,
  ];
}

function outcome(body: string, contentType = 'application/json') {
  try {
    return {
      result: readCompletion('p', {
        status: 200,
        headers: { 'content-type': contentType },
        body: Buffer.from(body),
      } as never),
    };
  } catch (err) {
    return {
      error: (err as Error).constructor.name + (err instanceof SyntaxError ? '' : (err as Error).message),
    };
  }
}

function agree(body: string) {
  expect(outcome(body), body).toStrictEqual(outcome(` ${body}`));
}

afterEach(() => vi.restoreAllMocks());

describe('text answers matched, not parsed', () => {
  it('reads OpenAI-shaped answers as parsing them reads them, whatever they hold', () => {
    const random = seeded(5);
    for (let i = 0; i < 4000; i++) agree(openaiAnswer(random));
  });

  it('reads every other shape by parsing it', () => {
    const random = seeded(9);
    for (let i = 0; i < 50; i++) for (const answer of otherAnswers(random)) agree(answer);
  });

  it('refuses a damaged answer exactly when parsing refuses it, and reads it the same otherwise', () => {
    const random = seeded(19);
    for (let i = 0; i < 6000; i++) {
      agree(damaged(random, random() < 0.8 ? openaiAnswer(random) : pick(random, otherAnswers(random))));
    }
  });

  it('reads an answer of another media type or an empty one as before: no choices', () => {
    const answer = openaiAnswer(seeded(3));
    expect(outcome(answer, 'text/html')).toStrictEqual(outcome(` ${answer}`, 'text/html'));
    // An empty body has no spaced twin (a lone space is not JSON): it is checked against the parse path itself.
    const empty = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(0),
    } as never;
    expect(() => readCompletion('p', empty)).toThrow(/without choices/);
    expect(() => toChatResult('p', parseCompletion(empty))).toThrow(/without choices/);
    expect(outcome('').error).toContain('without choices');
  });

  it('does not parse a plain text answer of the shape OpenAI sends', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const body =
      '{"id":"chatcmpl-1","object":"chat.completion","created":1796542761,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Pooling reuses connections.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":38,"completion_tokens":19,"total_tokens":57,"prompt_tokens_details":{"cached_tokens":32,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_1"}';
    expect(outcome(body).result).toStrictEqual({
      content: 'Pooling reuses connections.',
      refusal: null,
      finish_reason: 'stop',
      usage: { prompt_tokens: 38, completion_tokens: 19, cached_tokens: 32 },
      upstream_model: 'gpt-4o-mini-2024-07-18',
    });
    expect(parse).not.toHaveBeenCalled();
  });
});
