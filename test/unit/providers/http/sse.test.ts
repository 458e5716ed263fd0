/** The minimal SSE reader: the same events however the bytes are cut, in every line-ending style. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseSplitter } from '../../../../src/providers/http/sse.ts';

type Seen = [data: string, event: string | undefined];

/** Feeds `bytes` cut at `cuts` (sorted offsets) and returns the events seen. */
function read(bytes: Buffer, cuts: number[] = [], stopAt?: string): Seen[] {
  const splitter = new SseSplitter();
  const seen: Seen[] = [];
  const onEvent = (data: string, event: string | undefined) => {
    if (data === stopAt) return false;
    seen.push([data, event]);
    return true;
  };
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (!splitter.push(bytes.subarray(start, cut), onEvent)) break;
    start = cut;
  }
  return seen;
}

const STREAM =
  ': a comment\n' +
  'data: {"a":"héllo ✓"}\n\n' +
  'event: error\ndata: {"error":1}\n\n' +
  'data:no-space\n\n' +
  'data: first\ndata: second\n\n' +
  'id: 7\nretry: 100\nevent: ping\n\n' +
  'data\n\n' +
  'data: last\n\n' +
  'data: unterminated';

const EXPECTED: Seen[] = [
  ['{"a":"héllo ✓"}', undefined],
  ['{"error":1}', 'error'],
  ['no-space', undefined],
  ['first\nsecond', undefined],
  ['', undefined],
  ['last', undefined],
];

describe('SseSplitter', () => {
  it('reads data, multi-line data and event names; skips comments, other fields and events without data', () => {
    expect(read(Buffer.from(STREAM))).toEqual(EXPECTED);
  });

  it.each([
    ['\\r\\n', '\r\n'],
    ['\\r', '\r'],
  ])('reads the same events with %s line ends', (_name, end) => {
    expect(read(Buffer.from(STREAM.replaceAll('\n', end)))).toEqual(EXPECTED);
  });

  it('reads the same events wherever the bytes are cut (inside characters, between \\r and \\n)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.uniqueArray(fc.nat({ max: 200 }), { maxLength: 12 }),
        (end, offsets) => {
          const bytes = Buffer.from(STREAM.replaceAll('\n', end));
          const cuts = offsets.filter((o) => o > 0 && o < bytes.length).sort((a, b) => a - b);
          expect(read(bytes, cuts)).toEqual(EXPECTED);
        },
      ),
    );
  });

  it('byte by byte, too', () => {
    const bytes = Buffer.from(STREAM.replaceAll('\n', '\r\n'));
    expect(read(bytes, [...bytes.keys()].slice(1))).toEqual(EXPECTED);
  });

  it('stops at the terminator: nothing after it is read', () => {
    const bytes = Buffer.from('data: a\n\ndata: [DONE]\n\ndata: after\n\n');
    expect(read(bytes, [], '[DONE]')).toEqual([['a', undefined]]);
    expect(read(bytes, [12, 20], '[DONE]')).toEqual([['a', undefined]]);
  });
});
