import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeAnswer, normalizeText } from '../../../consensus/normalize.ts';
import { canonicalNumber, numberTokens } from '../../../consensus/numbers.ts';

const key = (text: string) => normalizeAnswer(text);

describe('normalizeAnswer: final numbers', () => {
  it.each([
    ['The answer is 42.', '42'],
    ['**42**', '42'],
    ['42', '42'],
    ['42.0', '42'],
    ['42.', '42'],
    ['1,000', '1000'],
    ['It costs $1,000.', '1000'],
    ['\\boxed{42}', '42'],
    ['So we get $\\boxed{42}$.', '42'],
    ['$\\boxed{\\frac{1}{2}}$', '0.5'],
    ['\\boxed{1\\,000}', '1000'],
    ['x = 42', '42'],
    ['Therefore, she has 12 apples left.', '12'],
    ['First 3 + 4 = 7, then 7 × 6 = 42', '42'],
    ['So 6 × 7 = 42', '42'],
    ['#### 18', '18'],
    ['She sells 16 eggs.\n#### 18', '18'],
    ['The final answer is: **-3**', '-3'],
    ['Answer: 3/4', '0.75'],
    ['The answer is 3.14.', '3.14'],
    ['The answer is 42 (6 × 7).', '42'],
    ['The answer is 42. I hope this answer is helpful!', '42'],
    ['42 is the answer', '42'],
    ['Result: 1e3', '1000'],
    ['−5', '-5'],
    ['In total, the farmer has 1,234 sheep.', '1234'],
    ['Step 1: 5 * 3 = 15\nStep 2: 15 + 2 = 17\nThe answer is 17', '17'],
  ])('%j → %s', (text, expected) => {
    expect(key(text)).toEqual({ kind: 'number', key: expected });
  });

  it('gives equal keys to equal values however they are written', () => {
    const forms = [
      '42',
      '42.0',
      '**42**',
      'The answer is 42.',
      '\\boxed{42}',
      'x = 42',
      '84/2',
      'Answer: 42.00',
    ];
    expect(new Set(forms.map((f) => key(f).key))).toEqual(new Set(['42']));
  });

  it('ignores a number inside a code block when reading the final answer', () => {
    expect(key('```py\nx = 7\n```\nThe answer is 42.')).toEqual({ kind: 'number', key: '42' });
  });
});

describe('normalizeAnswer: traps that must not become numbers', () => {
  it.each([
    ['3 apples and 4 oranges'],
    ['The meeting is on 2024-01-05.'],
    ['The answer is 2024-01-05'],
    ['Use version 1.2.3'],
    ['v1.2'],
    ['Version 1.2'],
    ['It is at 12:30'],
    ['1/2/2024'],
    ['the 42nd item'],
    ['0x1F'],
    ['Call 555-1234'],
    ['Chapter 3 of the book is the longest'],
    ['I hope this answer is helpful'],
  ])('%j stays text', (text) => {
    expect(key(text).kind).toBe('text');
  });

  it('dates keep their digits, so equal dates still group', () => {
    expect(key('The answer is 2024-01-05').key).toBe('2024 01 05');
    expect(key('2024-01-05').key).toBe('2024 01 05');
  });
});

describe('normalizeAnswer: option letters', () => {
  it.each([
    ['(B)', 'B'],
    ['B', 'B'],
    ['B.', 'B'],
    ['Answer: b', 'B'],
    ['The answer is (C).', 'C'],
    ['The correct answer is D. Because the others are wrong.', 'D'],
    ['B) Paris', 'B'],
    ['(B) Paris', 'B'],
    ['**Answer: A**', 'A'],
    ['Option C is the answer', 'C'],
    ['Final answer: option E', 'E'],
    ['The answer is B because A is wrong', 'B'],
    ['Answer:\n(C)', 'C'],
  ])('%j → %s', (text, expected) => {
    expect(key(text)).toEqual({ kind: 'option', key: expected });
  });

  it('does not read the article "a" or a word as an option', () => {
    expect(key('The answer is a dog.')).toEqual({ kind: 'text', key: 'dog' });
    expect(key('a').kind).toBe('text');
    expect(key('I think so.').kind).toBe('text');
    expect(key('C++ is a language').kind).toBe('text');
    expect(key('E. coli is a bacterium').kind).toBe('text');
    expect(key('J. K. Rowling').kind).toBe('text');
  });
});

describe('normalizeAnswer: JSON', () => {
  it('canonicalises key order and whitespace', () => {
    const a = key('{"b": 1, "a": [1, 2]}');
    const b = key('{\n  "a": [1,2],\n  "b": 1.0\n}');
    expect(a).toEqual({ kind: 'json', key: '{"a":[1,2],"b":1}' });
    expect(b).toEqual(a);
  });

  it('sorts nested keys but keeps array order', () => {
    expect(key('{"x": {"z": 1, "y": 2}, "l": [3, 1]}').key).toBe('{"l":[3,1],"x":{"y":2,"z":1}}');
    expect(key('[1, 2]').key).not.toBe(key('[2, 1]').key);
  });

  it('reads JSON in a json (or unlabelled) code fence, prose around it', () => {
    expect(key('Here you go:\n```json\n{"a": 1}\n```')).toEqual({ kind: 'json', key: '{"a":1}' });
    expect(key('```\n{"a": 1}\n```')).toEqual({ kind: 'json', key: '{"a":1}' });
  });

  it('a JSON answer with a cue inside a string stays JSON', () => {
    expect(key('{"note": "the answer is 42"}').kind).toBe('json');
  });

  it('reads loose JSON (trailing comma, single quotes) to the same key', () => {
    expect(key("{'a': 1,}")).toEqual(key('{"a": 1}'));
  });

  it('text that merely starts with a bracket is not JSON', () => {
    expect(key('[1] Smith et al. say so').kind).toBe('text');
    expect(key('{not json').kind).toBe('text');
  });
});

describe('normalizeAnswer: code blocks', () => {
  it('keys the last block, whitespace-normalised, ignoring prose', () => {
    const a = key('Here:\n```python\ndef f(x):\n    return  x\n```');
    const b = key('Sure! Use this:\n\n```python\ndef f(x):\n\n  return x   \n```\nHope it helps.');
    expect(a).toEqual({ kind: 'code', key: 'def f(x):\nreturn x' });
    expect(b).toEqual(a);
  });

  it('uses the last of several blocks', () => {
    expect(key('```\nold()\n```\nbetter:\n```js\nnew_()\n```').key).toBe('new_()');
  });

  it('different code stays different', () => {
    expect(key('```\nreturn x\n```').key).not.toBe(key('```\nreturn y\n```').key);
  });
});

describe('normalizeAnswer: short text', () => {
  it('ignores case, punctuation, whitespace and articles', () => {
    expect(key('The Eiffel Tower!')).toEqual({ kind: 'text', key: 'eiffel tower' });
    expect(key('  eiffel   tower ')).toEqual(key('The Eiffel Tower!'));
    expect(key('Answer: Paris').key).toBe(key('paris.').key);
    expect(key('The answer is Paris.').key).toBe('paris');
  });

  it('normalizeText is idempotent', () => {
    for (const t of ['The Eiffel Tower!', 'a', 'An apple, a day.', '']) {
      expect(normalizeText(normalizeText(t))).toBe(normalizeText(t));
    }
  });
});

describe('numbers', () => {
  it('canonicalNumber rounds float noise and -0', () => {
    expect(canonicalNumber(0.1 + 0.2)).toBe('0.3');
    expect(canonicalNumber(-0)).toBe('0');
    expect(canonicalNumber(1e21)).toBe('1e+21');
  });

  it('numberTokens skips dates, versions and times but keeps plain numbers', () => {
    expect(
      numberTokens('on 2024-01-05 at 12:30 ran v1.2.3 with 7 cats and -2.5 dogs').map((t) => t.value),
    ).toEqual([7, -2.5]);
  });
});

describe('normalizeAnswer: robustness', () => {
  it('never throws, and is deterministic, on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(normalizeAnswer(s)).toEqual(normalizeAnswer(s));
      }),
    );
  });

  it('every way of writing an integer gives the same key', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (v) => {
        const withCommas = String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
        const forms = [
          `${v}`,
          `**${withCommas}**`,
          `The answer is ${v}.`,
          `\\boxed{${v}}`,
          `x = ${v}`,
          `${v}.0`,
          `Answer: ${withCommas}`,
        ];
        for (const f of forms) expect(normalizeAnswer(f)).toEqual({ kind: 'number', key: String(v) });
      }),
    );
  });

  // How fast it is belongs to a benchmark; here, that it returns the right key (a pattern that
  // backtracks catastrophically would not return before the test times out).
  it('normalizes huge or pathological replies without hanging', () => {
    const cases: [string, string][] = [
      ['a'.repeat(1_000_000), 'a'.repeat(1_000_000)],
      [`${'x'.repeat(500_000)} is the answer`, `${'x'.repeat(500_000)} is answer`], // "the" dropped
      ['{'.repeat(200_000), ''],
      ['```'.repeat(50_000), ''],
      ['1,'.repeat(200_000), Array(200_000).fill('1').join(' ')],
    ];
    for (const [input, key] of cases) {
      const out = normalizeAnswer(input);
      expect(out.kind).toBe('text');
      expect(out.key === key).toBe(true); // compared as a boolean: a diff of 1 MB strings is unreadable
    }
  });
});
