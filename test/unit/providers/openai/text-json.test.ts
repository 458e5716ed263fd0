/**
 * Long texts a client sends again go upstream as the JSON written the last time: the body must be byte
 * for byte what serialising the request writes, on the first sight of a text and on every later one,
 * for any characters, in plain and in part-list messages, and the client's request must stay as it was.
 */
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../../src/chat/index.ts';
import { toOpenAIBody } from '../../../../src/providers/openai/request.ts';
import { messagesForBody } from '../../../../src/providers/openai/text-json.ts';

/** The body as it was written before texts were remembered: every field but ours, then model and stream. */
function plainBody(model: string, request: Record<string, unknown>, stream: boolean): string {
  const body: Record<string, unknown> = {};
  for (const key in request)
    if (!['quorum', 'stream', 'stream_options', 'model'].includes(key)) body[key] = request[key];
  body.model = model;
  body.stream = stream;
  if (stream) body.stream_options = { include_usage: true };
  return JSON.stringify(body);
}

const isRaw = (value: unknown) => (JSON as unknown as { isRawJSON(v: unknown): boolean }).isRawJSON(value);

let n = 0;
/** A long text, new to the process (each test's texts differ), with every character class JSON escapes. */
function longText(): string {
  n++;
  return `${n} You are "helpful" \\ and brief.\n\t\u0000\u001f é 中 😀 \u2028\u2029 \ud800 lone `.repeat(20);
}

function request(system: string, user: unknown): ChatRequest {
  return {
    model: 'alias',
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    temperature: 0.2,
    quorum: { tags: { a: 'b' } },
    stream: true,
  } as unknown as ChatRequest;
}

describe('remembered texts in the upstream body', () => {
  it('writes the same bytes on the first sight of a text and on every later one', () => {
    const system = longText();
    const parts = [
      { type: 'text', text: longText() },
      { type: 'image_url', image_url: { url: 'data:x' } },
    ];
    for (let sight = 1; sight <= 4; sight++) {
      // A fresh copy each time, as a new request's parse makes one.
      const req = request(JSON.parse(JSON.stringify(system)), structuredClone(parts));
      const before = structuredClone(req);
      for (const stream of [false, true]) {
        expect(toOpenAIBody('upstream-model', req, stream)).toBe(
          plainBody('upstream-model', req as never, stream),
        );
      }
      expect(req).toEqual(before);
    }
  });

  it('keeps a text JSON from its second sight, and not a short one', () => {
    const text = longText();
    const messages = () => [
      { role: 'system', content: JSON.parse(JSON.stringify(text)) as string },
      { role: 'user', content: 'short question' },
    ];
    const first = messagesForBody(messages()) as { content: unknown }[];
    expect(isRaw(first[0]!.content)).toBe(false);
    const second = messagesForBody(messages()) as { content: unknown }[];
    expect(isRaw(second[0]!.content)).toBe(true);
    expect(second[1]!.content).toBe('short question');
    expect(JSON.stringify(second)).toBe(JSON.stringify(messages()));
  });

  it('leaves messages it cannot read as they are', () => {
    const odd = [
      null,
      'text',
      { role: 'user' },
      { role: 'user', content: [null, { type: 'text', text: 5 }] },
    ];
    expect(messagesForBody(odd)).toBe(odd);
  });
});
