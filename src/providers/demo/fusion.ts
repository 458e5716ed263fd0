/**
 * The demo as fusion's analyst and synthesizer (consensus/fusion-prompts.ts). The analyst reads the
 * fenced REQUEST and lettered response blocks and answers the analysis JSON: for a calculation, the
 * stated results as positions of a contradiction (the right one named in the assessment); for text,
 * the sentences every response shares (agreements), some share (partial coverage) and only one has
 * (unique insights), plus a gap none covers. The synthesizer writes the answer from the lettered
 * blocks and the ANALYSIS block: the right result, or what they agree on, what only one adds and the gap.
 */

import { sentences } from './aggregate.ts';
import { findExpression, statedNumber } from './arithmetic.ts';
import { excerpt, type FencedBlock, fencedBlocks, inSentence, topicOf } from './text.ts';

interface Read {
  request: string;
  responses: FencedBlock[];
  analysis?: string;
}

function read(text: string): Read {
  const blocks = fencedBlocks(text);
  const analysis = blocks.find((b) => b.label === 'ANALYSIS')?.text;
  return {
    request: blocks.find((b) => b.label === 'REQUEST')?.text ?? '',
    responses: blocks.filter((b) => /^[A-Z]{1,2}$/.test(b.label)),
    ...(analysis !== undefined ? { analysis } : {}),
  };
}

const GAP = 'No response says where its claims come from or how to check them.';

/** The analyst's JSON for the prompt's request and responses. */
export function analysisReply(prompt: string): string {
  const { request, responses } = read(prompt);
  const expression = findExpression(request);
  if (expression) return JSON.stringify(arithmeticAnalysis(expression, responses));
  const shared = sharedSentences(responses);
  const all = responses.length;
  const labelled = (members: string[]) => members.slice().sort();
  return JSON.stringify({
    agreements: shared
      .filter((s) => all > 1 && s.members.length === all)
      .map((s) => ({ point: s.text, candidates: labelled(s.members) })),
    contradictions: [],
    partial_coverage: shared
      .filter((s) => s.members.length > 1 && s.members.length < all)
      .map((s) => ({ point: s.text, candidates: labelled(s.members) })),
    unique_insights: shared
      .filter((s) => all > 1 && s.members.length === 1)
      .map((s) => ({
        candidate: s.members[0],
        insight: s.text,
        assessment: 'Plausible, and only this response says it.',
      })),
    gaps: [GAP],
  });
}

function arithmeticAnalysis(expression: { source: string; value: number }, responses: FencedBlock[]) {
  const byResult = new Map<string, string[]>();
  for (const r of responses) {
    const stated = statedNumber(r.text);
    const key = stated === null ? 'no result' : String(stated);
    byResult.set(key, [...(byResult.get(key) ?? []), r.label]);
  }
  const results = [...byResult.entries()];
  const right = String(expression.value);
  const topic = `the result of ${expression.source}`;
  return {
    agreements:
      results.length === 1 ? [{ point: `${topic} is ${results[0]![0]}`, candidates: results[0]![1] }] : [],
    contradictions:
      results.length > 1
        ? [
            {
              topic,
              positions: results.map(([value, members]) => ({
                claim: value === 'no result' ? 'gives no result' : `it is ${value}`,
                candidates: members,
              })),
              assessment: `${right} is correct (${expression.source} = ${right}).`,
            },
          ]
        : [],
    partial_coverage: [],
    unique_insights: [],
    gaps: [],
  };
}

/** Each distinct sentence of the responses, with the labels of the responses that say it. */
function sharedSentences(responses: FencedBlock[]): { text: string; members: string[] }[] {
  const byKey = new Map<string, { text: string; members: string[] }>();
  for (const r of responses) {
    for (const sentence of new Set(sentences(r.text))) {
      const key = sentence.replace(/\bdemo-\w+/g, 'demo').toLowerCase();
      const seen = byKey.get(key) ?? { text: excerpt(sentence, 120), members: [] };
      seen.members.push(r.label);
      byKey.set(key, seen);
    }
  }
  return [...byKey.values()];
}

/** The synthesizer's answer, from the responses and the rendered analysis in its system message. */
export function fusedAnswer(model: string, system: string, question: string): string {
  const { responses, analysis } = read(system);
  const expression = findExpression(question);
  if (expression) return `The answer is ${expression.value}.`;
  const shared = sharedSentences(responses);
  const common = shared.filter((s) => s.members.length * 2 >= responses.length).map((s) => s.text);
  const unique = shared.filter((s) => s.members.length === 1 && responses.length > 1).map((s) => s.text);
  const gaps = analysisLines(analysis, 'Gaps');
  return [
    `This is ${model}, Quorum's built-in demo model, fusing ${responses.length} answers on ${inSentence(topicOf(question))}.`,
    ...(common.length ? [`They agree: ${common.slice(0, 2).join(' ')}`] : []),
    ...(unique.length ? [`Only one adds: ${unique[0]}`] : []),
    ...(gaps.length ? [`None of them covers this, so note it: ${gaps[0]}`] : []),
    'With a provider key configured, each candidate answers for real and this answer is written from the analysis of them.',
  ].join(' ');
}

/** The items under one heading of the rendered analysis ("Gaps:" then "- …" lines). */
function analysisLines(analysis: string | undefined, heading: string): string[] {
  if (!analysis) return [];
  const lines = analysis.split('\n');
  const start = lines.indexOf(`${heading}:`);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const item = /^- (.+)$/.exec(line);
    if (!item) break;
    out.push(item[1]!.replace(/^\[[A-Z, ]+\]\s*/, ''));
  }
  return out;
}
