import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonObjects, parseLooseJson } from '../../../consensus/loose-json.ts';
import { parseReview } from '../../../consensus/review-parse.ts';
import { parseScore, parseVerdict, toLabel } from '../../../consensus/verdict.ts';

const L = ['A', 'B', 'C'];

describe('parseLooseJson', () => {
  it.each([
    ['{"a": 1}', { a: 1 }],
    ["{'a': 'x'}", { a: 'x' }],
    ['{a: 1, b: [1, 2,],}', { a: 1, b: [1, 2] }],
    ['{"a": True, "b": None}', { a: true, b: null }],
    ['{"a": 1 /* c */, // line\n "b": 2}', { a: 1, b: 2 }],
    ['{"s": "q\\"uote \\u00e9"}', { s: 'q"uote é' }],
    ['[1, -2.5, +3]', [1, -2.5, 3]],
  ])('%s', (src, expected) => {
    expect(parseLooseJson(src)).toEqual(expected);
  });

  it.each(['{"a": 1', '{"a": 1} trailing', '{a b}', '', 'hello'])('rejects %j', (src) => {
    expect(parseLooseJson(src)).toBeUndefined();
  });

  it('agrees with JSON.parse on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(parseLooseJson(JSON.stringify(v, null, 1))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('reads a "__proto__" key as JSON.parse does: an own property, never the prototype', () => {
    const text = '{"__proto__": {"polluted": true}, "a": 1}';
    const parsed = parseLooseJson(text) as Record<string, unknown>;
    expect(parsed).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect((parsed as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a']);
  });

  it('finds objects in prose, fences, after a stray brace', () => {
    expect(findJsonObjects('Sure {oops. Here: ```json\n{"a": 1}\n``` and {"b": "}"}')).toEqual([
      { a: 1 },
      { b: '}' },
    ]);
  });
});

describe('parseVerdict', () => {
  const ok = { scores: { A: 7, B: 9 }, best: 'B', rationale: 'B is right.' };

  it('reads the requested JSON', () => {
    expect(parseVerdict('{"scores": {"A": 7, "B": 9}, "best": "B", "rationale": "B is right."}', L)).toEqual(
      ok,
    );
  });

  it.each([
    [
      'inside prose',
      'After careful thought, my verdict is {"scores": {"A": 7, "B": 9}, "best": "B", "rationale": "B is right."} — done.',
    ],
    [
      'inside a code fence',
      'Verdict:\n```json\n{"scores": {"A": 7, "B": 9}, "best": "B", "rationale": "B is right."}\n```',
    ],
    ['with single quotes', "{'scores': {'A': 7, 'B': 9}, 'best': 'B', 'rationale': 'B is right.'}"],
    ['with trailing commas', '{"scores": {"A": 7, "B": 9,}, "best": "B", "rationale": "B is right.",}'],
    ['with unquoted keys', '{scores: {A: 7, B: 9}, best: "B", rationale: "B is right."}'],
    [
      'with scores as strings',
      '{"scores": {"A": "7/10", "B": "9 out of 10"}, "best": "B", "rationale": "B is right."}',
    ],
    [
      'with "Candidate X" keys',
      '{"scores": {"Candidate A": 7, "Candidate B": 9}, "best": "Candidate B", "rationale": "B is right."}',
    ],
    ['with a lower-case best', '{"scores": {"A": 7, "B": 9}, "best": "b", "rationale": "B is right."}'],
    [
      'after an echoed template',
      'Format: {"scores": {"A": 0}, "best": "A"}\nMine: {"scores": {"A": 7, "B": 9}, "best": "B", "rationale": "B is right."}',
    ],
    [
      'with scores as a list',
      '{"scores": [{"label": "A", "score": 7}, {"candidate": "B", "score": 9}], "best": "B", "rationale": "B is right."}',
    ],
    ['with flat label keys', '{"A": 7, "B": 9, "best": "B", "rationale": "B is right."}'],
  ])('reads JSON %s', (_, text) => {
    expect(parseVerdict(text, L)).toEqual(ok);
  });

  it('reads "A: 7" lines and a Best line', () => {
    const v = parseVerdict(
      'Scores:\n- A: 7/10\n- **B**: 9\nCandidate C - 4\n\nBest: B\nRationale: B is right.',
      L,
    );
    expect(v).toEqual({ scores: { A: 7, B: 9, C: 4 }, best: 'B', rationale: 'B is right.' });
  });

  it('reads "Score for A" phrasing and several pairs on one line', () => {
    expect(parseVerdict('Score for A: 6. Score for B: 8.', L)?.scores).toEqual({ A: 6, B: 8 });
    expect(parseVerdict('A: 6, B: 8; C: 1', L)?.scores).toEqual({ A: 6, B: 8, C: 1 });
  });

  it('reads a lone "Best: B" and prose picks', () => {
    expect(parseVerdict('Best: B', L)).toMatchObject({ scores: {}, best: 'B' });
    expect(parseVerdict('The best candidate is (C).', L)?.best).toBe('C');
    expect(parseVerdict('Candidate A is clearly the best.', L)?.best).toBe('A');
    expect(parseVerdict('Winner: **b**', L)?.best).toBe('B');
  });

  it('ignores labels that do not exist and lower-case words that look like labels', () => {
    expect(parseVerdict('Best: Z', L)).toBeUndefined();
    expect(parseVerdict('The best is a tie between them.', L)).toBeUndefined();
    expect(parseVerdict('{"scores": {"D": 9}, "best": "D"}', L)).toBeUndefined();
  });

  it('clamps and rescales scores', () => {
    expect(parseVerdict('{"scores": {"A": 14, "B": -3, "C": 85}}', ['A', 'B', 'C'])?.scores).toEqual({
      A: 1.4,
      B: 0,
      C: 8.5,
    });
    expect(parseScore('85/100')).toBe(8.5);
    expect(parseScore('200')).toBe(10);
    expect(parseScore({ score: '7' })).toBe(7);
    expect(parseScore('n/a')).toBeUndefined();
  });

  it('returns undefined for unreadable replies', () => {
    expect(parseVerdict('I cannot decide.', L)).toBeUndefined();
    expect(parseVerdict('', L)).toBeUndefined();
  });

  it('toLabel reads numbers as 1-based positions', () => {
    expect(toLabel(2, L)).toBe('B');
    expect(toLabel('Response 3', L)).toBe('C');
    expect(toLabel(9, L)).toBeUndefined();
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const v = parseVerdict(s, L);
        if (v)
          for (const [k, n] of Object.entries(v.scores))
            expect(L.includes(k) && n >= 0 && n <= 10).toBe(true);
      }),
    );
  });
});

describe('parseReview', () => {
  it('reads the requested JSON, in prose or loosely written', () => {
    const want = { verdict: 'revise', score: 6, issues: ['Too long', 'No tests'] };
    expect(parseReview('{"verdict": "revise", "score": 6, "issues": ["Too long", "No tests"]}')).toEqual(
      want,
    );
    expect(
      parseReview(
        "Here:\n```json\n{'verdict': 'Revise', 'score': '6/10', 'issues': ['Too long', 'No tests',],}\n```",
      ),
    ).toEqual(want);
    expect(
      parseReview(
        '{"verdict": "revise", "score": 6, "issues": [{"issue": "Too long"}, {"description": "No tests"}]}',
      ),
    ).toEqual(want);
  });

  it('reads synonyms of verdicts', () => {
    expect(parseReview('{"verdict": "LGTM", "score": 9, "issues": []}')?.verdict).toBe('accept');
    expect(parseReview('{"verdict": "changes requested", "score": 5}')?.verdict).toBe('revise');
    expect(parseReview('{"verdict": "rejected", "score": 1}')?.verdict).toBe('reject');
  });

  it('falls back to plain text', () => {
    expect(
      parseReview('Verdict: accept\nScore: 9/10\nIssues:\n- typo in line 2\n- missing date\n\nThanks'),
    ).toEqual({
      verdict: 'accept',
      score: 9,
      issues: ['typo in line 2', 'missing date'],
    });
  });

  it('infers a missing score from the verdict, and a missing verdict from the score', () => {
    expect(parseReview('{"verdict": "accept"}')).toEqual({ verdict: 'accept', score: 8, issues: [] });
    expect(parseReview('{"score": 3, "issues": ["wrong"]}')).toEqual({
      verdict: 'reject',
      score: 3,
      issues: ['wrong'],
    });
  });

  it('returns undefined when there is neither verdict nor score', () => {
    expect(parseReview('Looks interesting.')).toBeUndefined();
    expect(parseReview('{"issues": ["x"]}')).toBeUndefined();
  });
});

describe('parsers on huge or pathological replies', () => {
  // How fast they are belongs to a benchmark; here, that they return the right reading (a parser that
  // backtracks catastrophically would not return before the test times out).
  it('read them without hanging: nothing from unbalanced input, the scores and best from a long list', () => {
    for (const input of ['{'.repeat(200_000), `"${'x'.repeat(500_000)}`]) {
      expect(parseVerdict(input, L)).toBeUndefined();
      expect(parseReview(input)).toBeUndefined();
    }
    const long = `${'A: 7\n'.repeat(50_000)}Best: B`;
    expect(parseVerdict(long, L)).toMatchObject({ scores: { A: 7 }, best: 'B' });
    expect(parseReview(long)).toBeUndefined();
  });
});
