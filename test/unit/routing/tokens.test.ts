/** The prompt token estimator: typical counts for routing, upper bounds for budget holds and tpm. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FILE_BY_ID, imageSize, UNKNOWN_IMAGE } from '../../../routing/media-tokens.ts';
import { MAX_TOKENS_PER_CHAR } from '../../../routing/text-tokens.ts';
import {
  estimatePromptTokens,
  estimateTextTokens,
  maxPromptTokens,
  maxTextTokens,
} from '../../../routing/tokens.ts';

describe('estimateTextTokens', () => {
  it('counts about four characters per token, rounding up', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('a')).toBe(1);
    expect(estimateTextTokens('abcd')).toBe(1);
    expect(estimateTextTokens('abcde')).toBe(2);
    expect(estimateTextTokens('x'.repeat(4000))).toBe(1000);
  });

  it('grows monotonically with the text', () => {
    let previous = 0;
    for (let n = 0; n <= 64; n++) {
      const t = estimateTextTokens('y'.repeat(n));
      expect(t).toBeGreaterThanOrEqual(previous);
      previous = t;
    }
  });
});

describe('estimatePromptTokens', () => {
  it('charges a fixed overhead for an empty conversation and per message', () => {
    const none = estimatePromptTokens([]);
    const one = estimatePromptTokens([{ role: 'user', content: '' }]);
    const two = estimatePromptTokens([
      { role: 'user', content: '' },
      { role: 'assistant', content: '' },
    ]);
    expect(none).toBeGreaterThan(0);
    expect(one).toBeGreaterThan(none);
    expect(two - one).toBe(one - none);
  });

  it('adds the text of string content', () => {
    const empty = estimatePromptTokens([{ role: 'user', content: '' }]);
    const text = estimatePromptTokens([{ role: 'user', content: 'x'.repeat(400) }]);
    expect(text - empty).toBe(100);
  });

  it('counts text parts and refusals like string content', () => {
    const asString = estimatePromptTokens([{ role: 'user', content: 'x'.repeat(80) }]);
    const asParts = estimatePromptTokens([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'x'.repeat(40) },
          { type: 'text', text: 'x'.repeat(40) },
        ],
      },
    ]);
    expect(asParts).toBe(asString);
    const refusal = estimatePromptTokens([
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'x'.repeat(80) }] },
    ]);
    expect(refusal).toBe(asString);
  });

  it('charges each image a generous fixed amount, whatever its URL length', () => {
    const base = estimatePromptTokens([{ role: 'user', content: [{ type: 'text', text: 'what is this?' }] }]);
    const short = estimatePromptTokens([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 'https://x/y.png' } },
        ],
      },
    ]);
    const huge = estimatePromptTokens([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } },
        ],
      },
    ]);
    expect(short - base).toBe(765);
    expect(huge).toBe(short);
  });

  it('counts assistant tool calls (name and arguments)', () => {
    const without = estimatePromptTokens([{ role: 'assistant', content: null }]);
    const withCall = estimatePromptTokens([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { function: { name: 'get_weather', arguments: JSON.stringify({ city: 'Paris', days: 3 }) } },
        ],
      },
    ]);
    expect(withCall - without).toBe(
      estimateTextTokens('get_weather') + estimateTextTokens(JSON.stringify({ city: 'Paris', days: 3 })),
    );
  });

  it('counts tool definitions, and nothing for an empty tool list', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const tools = [
      { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
    ];
    expect(estimatePromptTokens(messages, [])).toBe(estimatePromptTokens(messages));
    expect(estimatePromptTokens(messages, tools) - estimatePromptTokens(messages)).toBe(
      estimateTextTokens(JSON.stringify(tools)),
    );
  });

  it('never underestimates plain text below chars/4 (safe for budget reservation)', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(50);
    expect(estimatePromptTokens([{ role: 'user', content: text }])).toBeGreaterThanOrEqual(text.length / 4);
  });
});

/** Uniformly random code points from one range (random text tokenizes worse than prose). */
const script = (from: number, to: number, min = 1) =>
  fc
    .array(fc.integer({ min: from, max: to }), { minLength: min, maxLength: 400 })
    .map((cps) => String.fromCodePoint(...cps));

/**
 * The documented upper-bound ratios (tokens per code point, measured on random strings of each script
 * against cl100k and o200k): the estimate must reach them for any string of the script.
 */
const SCRIPTS: [string, fc.Arbitrary<string>, number][] = [
  ['ASCII letters and digits', fc.stringMatching(/^[a-zA-Z0-9]{1,400}$/), 0.72],
  ['ASCII without spaces', fc.stringMatching(/^[!-~]{1,400}$/), 0.75],
  ['words of random letters', fc.stringMatching(/^([a-z]{1,8} ){1,60}$/), 0.5],
  ['lines of one letter', fc.stringMatching(/^([a-z]\n){1,200}$/), 1],
  ['Latin-1 and Latin Extended', script(0xc0, 0x24f), 1.18],
  ['Greek', script(0x391, 0x3c9), 1.41],
  ['Cyrillic', script(0x410, 0x44f), 1.01],
  ['Hebrew', script(0x5d0, 0x5ea), 1.32],
  ['Arabic', script(0x621, 0x64a), 1.13],
  ['Devanagari', script(0x900, 0x97f), 1.74],
  ['Thai', script(0xe01, 0xe5b), 1.5],
  ['Myanmar', script(0x1000, 0x109f), 2.39],
  ['Ethiopic', script(0x1200, 0x137f), 2.72],
  ['Hiragana', script(0x3041, 0x3096), 1.39],
  ['Han', script(0x4e00, 0x9fff), 2.18],
  ['Hangul', script(0xac00, 0xd7a3), 2.37],
  ['emoji', script(0x1f600, 0x1f64f), 1.98],
];

describe('maxTextTokens (the upper bound that holds reserve)', () => {
  it.each(SCRIPTS)('%s: never below the measured worst ratio', (_name, text, ratio) => {
    fc.assert(
      fc.property(text, (t) => {
        expect(maxTextTokens(t)).toBeGreaterThanOrEqual(Math.ceil([...t].length * ratio));
      }),
    );
  });

  it('counts Han at three tokens a character, where the old estimate counted a quarter', () => {
    const han = '我们今天讨论人工智能在医疗领域的应用'.repeat(400);
    expect(maxTextTokens(han)).toBe(han.length * MAX_TOKENS_PER_CHAR.threeByte);
    expect(estimateTextTokens(han)).toBe(han.length); // typical: one a character, not a quarter
  });

  it('is never below the typical estimate, and every script costs more than Latin', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (t) => {
        expect(maxTextTokens(t)).toBeGreaterThanOrEqual(estimateTextTokens(t));
      }),
    );
    expect(maxTextTokens('Привет')).toBeGreaterThan(maxTextTokens('Privet'));
  });
});

describe('maxPromptTokens (every content part)', () => {
  const user = (content: unknown) => [{ role: 'user', content }];
  const base64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');

  it('charges a file by its decoded size: one token a byte, whatever the typical estimate', () => {
    const pdf = `data:application/pdf;base64,${base64(200 * 1024)}`;
    const withFile = user([
      { type: 'text', text: 'summarise' },
      { type: 'file', file: { filename: 'a.pdf', file_data: pdf } },
    ]);
    const without = user([{ type: 'text', text: 'summarise' }]);
    expect(maxPromptTokens(withFile) - maxPromptTokens(without)).toBe(200 * 1024);
    expect(estimatePromptTokens(withFile)).toBeGreaterThan(estimatePromptTokens(without));
    const byId = user([{ type: 'file', file: { file_id: 'file-1' } }]);
    expect(maxPromptTokens(byId) - maxPromptTokens(user([]))).toBe(FILE_BY_ID.most);
  });

  it('charges audio by the longest duration its bytes can hold', () => {
    const audio = (format: string) =>
      user([{ type: 'input_audio', input_audio: { data: base64(80_000), format } }]);
    const empty = maxPromptTokens(user([]));
    // 80 KB: 80 s of 8 kbps MP3 at 50 tokens a second; 10 s of 8 kHz 8-bit WAV.
    expect(maxPromptTokens(audio('mp3')) - empty).toBe(4000);
    expect(maxPromptTokens(audio('wav')) - empty).toBe(500);
  });

  it('charges an image by its size when the data URL tells it, else a safe bound', () => {
    const png = (w: number, h: number) => {
      const b = Buffer.alloc(33);
      Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(b);
      b.writeUInt32BE(w, 16);
      b.writeUInt32BE(h, 20);
      return `data:image/png;base64,${b.toString('base64')}`;
    };
    expect(imageSize(png(1024, 768))).toEqual({ width: 1024, height: 768 });
    const img = (url: string, detail?: string) =>
      maxPromptTokens(user([{ type: 'image_url', image_url: { url, ...(detail ? { detail } : {}) } }])) -
      maxPromptTokens(user([]));
    // 1024×768: OpenAI 4 tiles (765), Claude 1049, Gemini 2×1 tiles (516): the largest.
    expect(img(png(1024, 768))).toBe(1049);
    expect(img(png(1024, 768), 'low')).toBe(1049); // only OpenAI honours detail: low
    expect(img(png(6000, 6000))).toBe(258 * 8 * 8);
    expect(img('https://example.invalid/cat.jpg')).toBe(UNKNOWN_IMAGE.most);
  });

  it('counts tool definitions and the response schema', () => {
    const messages = user('hi');
    const schema = {
      type: 'object',
      properties: { answer: { type: 'string', description: 'x'.repeat(400) } },
    };
    const format = { type: 'json_schema', json_schema: { name: 'out', schema } };
    expect(maxPromptTokens(messages, undefined, format) - maxPromptTokens(messages)).toBeGreaterThan(300);
    const tools = [{ type: 'function', function: { name: 'f', parameters: schema } }];
    expect(maxPromptTokens(messages, tools) - maxPromptTokens(messages)).toBeGreaterThan(300);
  });

  it('counts a part type it does not know by its JSON', () => {
    const odd = user([{ type: 'input_video', data: 'v'.repeat(4000) }]);
    expect(maxPromptTokens(odd) - maxPromptTokens(user([]))).toBeGreaterThan(3000);
  });
});
