/**
 * Reading fusion's analysis: the JSON the schema asks for, and what analysts write instead — prose
 * around it, fences, loose JSON, other key names, items as sentences, labels in many spellings, a
 * reply cut off at its output limit, headed bullet lists — without ever letting a label outside the
 * candidates through.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ITEMS, MAX_TEXT, parseAnalysis } from '../../../consensus/analysis-parse.ts';

const LABELS = ['A', 'B', 'C'];

const full = {
  agreements: [{ point: 'Paris is the capital.', candidates: ['A', 'B', 'C'] }],
  contradictions: [
    {
      topic: 'population',
      positions: [
        { claim: 'about 2.1 million', candidates: ['A', 'C'] },
        { claim: 'about 11 million', candidates: ['B'] },
      ],
      assessment: 'Both: city proper vs metro area.',
    },
  ],
  partial_coverage: [{ point: 'It sits on the Seine.', candidates: ['A', 'B'] }],
  unique_insights: [{ candidate: 'C', insight: 'Founded as Lutetia.', assessment: 'Correct.' }],
  gaps: ['None gives a source.'],
};

describe('parseAnalysis', () => {
  it('reads the schema’s JSON as is', () => {
    expect(parseAnalysis(JSON.stringify(full), LABELS)).toEqual(full);
  });

  it('reads it inside prose and a code fence, after an echoed schema', () => {
    const schema = '{"type": "object", "properties": {"agreements": {"type": "array"}}}';
    const text = `The schema was ${schema}.\n\nHere is my analysis:\n\`\`\`json\n${JSON.stringify(full, null, 2)}\n\`\`\`\nHope it helps.`;
    expect(parseAnalysis(text, LABELS)).toEqual(full);
  });

  it('reads loose JSON, other key names, wrapped objects and items as sentences', () => {
    const text = `{analysis: {
      'Points of agreement': ['Candidates A and B say it is 42.'],
      disagreements: [{issue: 'units', sides: {"A": 'km', "Candidate C": 'miles'}, resolution: 'km is asked for'}],
      "Blind spots": [{gap: 'No caveat about rounding.'}],
      unique: ['C: mentions the 1983 survey.'],
      partial: [{text: 'Mentions the margin of error', covered_by: 'A, C'}],
    }}`;
    expect(parseAnalysis(text, LABELS)).toEqual({
      agreements: [{ point: 'Candidates A and B say it is 42.', candidates: ['A', 'B'] }],
      contradictions: [
        {
          topic: 'units',
          positions: [
            { claim: 'km', candidates: ['A'] },
            { claim: 'miles', candidates: ['C'] },
          ],
          assessment: 'km is asked for',
        },
      ],
      partial_coverage: [{ point: 'Mentions the margin of error', candidates: ['A', 'C'] }],
      unique_insights: [{ candidate: 'C', insight: 'C: mentions the 1983 survey.' }],
      gaps: ['No caveat about rounding.'],
    });
  });

  it('reads labels as "Candidate B", numbers and lists in a string; drops labels it never showed', () => {
    const text = JSON.stringify({
      agreements: [{ point: 'x', candidates: ['Candidate B', 3, 'D', 'A, Z'] }],
      unique_insights: [
        { candidate: 'Response A', insight: 'kept' },
        { candidate: 'E', insight: 'an invented candidate: dropped' },
      ],
      contradictions: [],
      partial_coverage: [],
      gaps: [],
    });
    const a = parseAnalysis(text, LABELS)!;
    expect(a.agreements[0]!.candidates).toEqual(['B', 'C', 'A']);
    expect(a.unique_insights).toEqual([{ candidate: 'A', insight: 'kept' }]);
  });

  it('a sentence names only the labels it cites, never a capital letter in passing', () => {
    const text = JSON.stringify({
      agreements: ['A queue is first in, first out.', 'Both (A, C) agree on FIFO.', 'B and C: O(1) push.'],
      gaps: [],
    });
    const a = parseAnalysis(text, LABELS)!;
    expect(a.agreements.map((x) => x.candidates)).toEqual([[], ['A', 'C'], ['B', 'C']]);
  });

  it('repairs a reply cut off at the output limit, keeping every whole item', () => {
    const whole = JSON.stringify(full);
    const cut = whole.slice(0, whole.indexOf('Founded as') + 5);
    const a = parseAnalysis(`Analysis:\n${cut}`, LABELS)!;
    expect(a.agreements).toEqual(full.agreements);
    expect(a.contradictions).toEqual(full.contradictions);
    expect(a.partial_coverage).toEqual(full.partial_coverage);
    expect(a.gaps).toEqual([]);
  });

  it('reads headed bullet lists when there is no JSON at all', () => {
    const text = [
      '## Agreements',
      '- All of (A, B, C) give 42.',
      '',
      '**Contradictions:**',
      '- Units: A says km, C says miles.',
      '',
      '### Unique insights',
      '1. Candidate B notes the survey date.',
      '',
      'Gaps:',
      '- Nobody mentions rounding.',
    ].join('\n');
    expect(parseAnalysis(text, LABELS)).toEqual({
      agreements: [{ point: 'All of (A, B, C) give 42.', candidates: ['A', 'B', 'C'] }],
      contradictions: [{ topic: 'Units: A says km, C says miles.', positions: [] }],
      partial_coverage: [],
      unique_insights: [{ candidate: 'B', insight: 'Candidate B notes the survey date.' }],
      gaps: ['Nobody mentions rounding.'],
    });
  });

  it('an empty analysis (nothing to report) is readable; a reply without one is not', () => {
    expect(parseAnalysis('{"agreements": [], "gaps": []}', LABELS)).toEqual({
      agreements: [],
      contradictions: [],
      partial_coverage: [],
      unique_insights: [],
      gaps: [],
    });
    expect(parseAnalysis('I think B is best.', LABELS)).toBeUndefined();
    expect(parseAnalysis('{"scores": {"A": 7}, "best": "A"}', LABELS)).toBeUndefined();
    expect(parseAnalysis('', LABELS)).toBeUndefined();
  });

  it('caps lists and texts, so a runaway analyst cannot bloat the record', () => {
    const long = 'x'.repeat(1_000);
    const text = JSON.stringify({
      agreements: Array.from({ length: 40 }, (_, i) => ({ point: `${i} ${long}`, candidates: ['A'] })),
      gaps: [long],
    });
    const a = parseAnalysis(text, LABELS)!;
    expect(a.agreements).toHaveLength(MAX_ITEMS);
    expect(a.agreements[0]!.point.length).toBe(MAX_TEXT);
    expect(a.gaps[0]!.length).toBe(MAX_TEXT);
  });

  it('reads hostile input in linear time, finding no analysis in it', () => {
    // A quadratic scan of these would not finish within the test's timeout.
    expect(parseAnalysis('{'.repeat(200_000), LABELS)).toBeUndefined();
    expect(parseAnalysis('"'.repeat(200_000), LABELS)).toBeUndefined();
    expect(parseAnalysis('[gaps:'.repeat(50_000), LABELS)).toBeUndefined();
  });
});
