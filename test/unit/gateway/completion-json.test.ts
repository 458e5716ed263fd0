/**
 * A chat answer writes its own JSON: it must be byte for byte what `JSON.stringify` writes, for any
 * text, tool calls, counts and quorum record, and after anything changes or adds a member.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatResult } from '../../../src/chat/index.ts';
import { bodyJson, completionBody } from '../../../src/gateway/replies/completion.ts';

function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const PIECES = ['a', ' ', '"', '\\', '\n', '\u0000', '\u001f', 'é', '中', '😀', '\u2028', '\ud800', '<', '{'];
const pick = <T>(random: () => number, items: T[]): T => items[Math.floor(random() * items.length)]!;

function text(random: () => number): string {
  let out = '';
  const n = Math.floor(random() * 30);
  for (let i = 0; i < n; i++) out += pick(random, PIECES);
  return out;
}

function randomBody(random: () => number) {
  const result: ChatResult = {
    content: random() < 0.2 ? null : text(random),
    refusal: random() < 0.8 ? null : text(random),
    finish_reason: pick(random, ['stop', 'length', 'tool_calls', 'content_filter'] as const),
    usage: { prompt_tokens: 0, completion_tokens: 0 },
    ...(random() < 0.3
      ? {
          tool_calls: [
            {
              id: text(random),
              type: 'function' as const,
              function: { name: text(random), arguments: text(random) },
            },
          ],
        }
      : {}),
  };
  const usage = {
    prompt_tokens: pick(random, [0, 3, 38, 2 ** 40]),
    completion_tokens: pick(random, [0, 19, 4096]),
    ...(random() < 0.5 ? { cached_tokens: 32 } : {}),
    ...(random() < 0.5 ? { reasoning_tokens: 7 } : {}),
  };
  const quorum = {
    request_id: text(random),
    cost_usd: pick(random, [0, 0.0000171, 1e-9, 12.5]),
    attempts: [{ model: text(random), provider: 'p', status: 200 }],
    ...(random() < 0.5 ? { cache: 'miss', tags: { [text(random)]: text(random) }, skipped: undefined } : {}),
  };
  return completionBody(
    `chatcmpl-${text(random)}`,
    Math.floor(random() * 2e9),
    text(random),
    result,
    usage,
    quorum,
  );
}

afterEach(() => vi.restoreAllMocks());

describe('a chat answer writes its own JSON', () => {
  it('writes what JSON.stringify writes, for any answer', () => {
    const random = seeded(23);
    for (let i = 0; i < 3000; i++) {
      const body = randomBody(random);
      expect(bodyJson(body)).toBe(JSON.stringify(body));
    }
  });

  it('writes what JSON.stringify writes after a member is changed, added or left undefined', () => {
    const random = seeded(29);
    const changes: ((b: ReturnType<typeof randomBody>) => void)[] = [
      (b) => {
        (b.choices[0].message as Record<string, unknown>).annotations = [];
      },
      (b) => {
        (b.choices[0].message as Record<string, unknown>).content = undefined;
      },
      (b) => {
        (b.choices[0] as unknown as Record<string, unknown>).finish_reason = undefined;
      },
      (b) => {
        b.system_fingerprint = 'fp';
      },
      (b) => {
        b.choices.push({ ...b.choices[0] } as never);
      },
      (b) => {
        b.usage.prompt_tokens = Number.NaN;
      },
      (b) => {
        b.usage.completion_tokens = -0;
      },
      (b) => {
        b.usage.total_tokens = 1.5;
      },
      (b) => {
        (b.usage.prompt_tokens_details as Record<string, unknown>).audio_tokens = 0;
      },
      (b) => {
        b.created = Number.POSITIVE_INFINITY;
      },
      (b) => {
        b.model = undefined as never;
      },
      (b) => {
        b.quorum = undefined as never;
      },
      (b) => {
        (b.choices[0].message as Record<string, unknown>).tool_calls = undefined;
      },
      (b) => {
        b.choices[0].logprobs = { content: [] } as never;
      },
    ];
    for (let i = 0; i < 600; i++) {
      const body = randomBody(random);
      pick(random, changes)(body);
      expect(bodyJson(body)).toBe(JSON.stringify(body));
      const copy = { ...body, id: 'copied' };
      expect(bodyJson(copy)).toBe(JSON.stringify(copy));
    }
  });

  it('does not hand a plain answer to JSON.stringify whole', () => {
    const body = randomBody(seeded(31));
    const stringify = vi.spyOn(JSON, 'stringify');
    bodyJson(body);
    expect(stringify.mock.calls.some(([value]) => value === body)).toBe(false);
  });
});
