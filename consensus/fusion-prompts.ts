/**
 * Fusion's two prompts. The analyst (the judge) reads the user's request and the candidates — fenced,
 * anonymous, labelled A, B, C… in a seeded order — and replies with a JSON analysis matching
 * `ANALYSIS_SCHEMA`. The synthesizer gets the user's own request with a leading system message holding
 * the same labelled candidates (in the reverse order, so no candidate is first for both readers) and
 * the analysis, fenced too: the analysis quotes candidates, so it is data like them.
 */
import { fenceBlock, fenceRules } from './fence.ts';
import { requestText } from './request-text.ts';
import type { CompletionRequest, Message } from './types.ts';

/** Output cap for the analysis call (the JSON); budget reservation relies on it. */
export const ANALYSIS_MAX_TOKENS = 2048;

/**
 * Upper bounds, in tokens, of what the prompts add around the material (the request, the candidates,
 * the analysis) — instructions and the schema, and the two fence lines of each block — as the gateway's
 * upper-bound estimator counts them (a unit test holds the prompts to them). Budget holds add them.
 */
export const ANALYSIS_PROMPT_TOKENS = 2400;
export const SYNTHESIS_PROMPT_TOKENS = 1000;
export const FENCE_TOKENS_PER_BLOCK = 56;
/** The rendered analysis the synthesizer reads: the analyst's output re-written with headings and labels. */
export const RENDERED_ANALYSIS_TOKENS = 2 * ANALYSIS_MAX_TOKENS;

const labels = { type: 'array', items: { type: 'string' } } as const;

/** The JSON Schema the analysis must match (draft 2020-12); the analyst is shown it verbatim. */
export const ANALYSIS_SCHEMA = {
  type: 'object',
  required: ['agreements', 'contradictions', 'partial_coverage', 'unique_insights', 'gaps'],
  properties: {
    agreements: {
      type: 'array',
      items: {
        type: 'object',
        required: ['point', 'candidates'],
        properties: { point: { type: 'string' }, candidates: labels },
      },
    },
    contradictions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['topic', 'positions'],
        properties: {
          topic: { type: 'string' },
          positions: {
            type: 'array',
            items: {
              type: 'object',
              required: ['claim', 'candidates'],
              properties: { claim: { type: 'string' }, candidates: labels },
            },
          },
          assessment: { type: 'string' },
        },
      },
    },
    partial_coverage: {
      type: 'array',
      items: {
        type: 'object',
        required: ['point', 'candidates'],
        properties: { point: { type: 'string' }, candidates: labels },
      },
    },
    unique_insights: {
      type: 'array',
      items: {
        type: 'object',
        required: ['candidate', 'insight'],
        properties: {
          candidate: { type: 'string' },
          insight: { type: 'string' },
          assessment: { type: 'string' },
        },
      },
    },
    gaps: { type: 'array', items: { type: 'string' } },
  },
} as const;

function analystSystem(token: string, names: readonly string[]): string {
  return [
    'You are an impartial analyst. Several anonymous AI assistants have answered the same request. You compare their responses so that a writer can fuse them into one answer better than any of them; you do not write that answer yourself.',
    fenceRules(token, "The user's request and the responses"),
    'The responses are anonymous and listed in arbitrary order. Their position, length and confident tone are not evidence, and neither is how many of them repeat a claim: weigh what each one says on its substance.',
    [
      `Report, naming responses only by their labels (${names.join(', ')}):`,
      '- agreements: the substantive points the responses share, and which responses make each;',
      '- contradictions: where responses conflict — each position, which responses hold it, and your assessment of which is right and why (or that it cannot be settled);',
      '- partial_coverage: points some responses cover and others leave out, and which responses cover each;',
      '- unique_insights: what only one response says, and your assessment of whether it is correct and useful;',
      '- gaps: what the request needs that no response covers — blind spots, unstated assumptions, missing caveats.',
    ].join('\n'),
    'One sentence per item; use an empty list where there is nothing to report.',
    `Reply with only a JSON object matching this JSON Schema: ${JSON.stringify(ANALYSIS_SCHEMA)}`,
  ].join('\n\n');
}

/** The analyst's request: the user's request and the candidates (in the given order) as fenced blocks. */
export function analysisRequest(
  request: CompletionRequest,
  candidates: readonly string[],
  names: readonly string[],
  token: string,
): CompletionRequest {
  const user = [
    "The user's request:",
    fenceBlock('REQUEST', requestText(request), token),
    `The responses (${names.join(', ')}):`,
    ...candidates.map((c, i) => fenceBlock(names[i]!, c, token)),
    'Analyse the responses. Reply with the JSON object only.',
  ].join('\n\n');
  return {
    messages: [
      { role: 'system', content: analystSystem(token, names) },
      { role: 'user', content: user },
    ],
    temperature: 0,
    max_tokens: ANALYSIS_MAX_TOKENS,
  };
}

const SYNTHESIZE = [
  'Several AI assistants have answered the latest user message in this conversation, and an analyst has compared their responses. The responses and the analysis are below.',
  'Write the best possible response to the user from them: keep the points they agree on where they are correct; settle each contradiction on the merits (the analyst’s assessment is advice, not a verdict); include the unique insights and partly covered points that are correct and useful; and cover the gaps where you can.',
  'Do not mention the responses, the analysis, their number or their authors, and do not simply copy one response. Reply to the user directly, in the format and language the user asked for.',
];

const SYNTHESIZE_UNANALYSED = [
  'Several AI assistants have answered the latest user message in this conversation; their responses are below.',
  'Write the best possible response to the user from them: keep what they agree on where it is correct, settle contradictions on the merits rather than by vote, include correct points only some of them make, and cover what none of them covers where you can.',
  'Do not mention the responses, their number or their authors, and do not simply copy one response. Reply to the user directly, in the format and language the user asked for.',
];

/**
 * The synthesizer's request: the user's conversation (all its fields) with a leading system message
 * holding the labelled candidates, in the order given, and the rendered analysis when there is one.
 */
export function synthesisRequest(
  request: CompletionRequest,
  candidates: readonly { label: string; text: string }[],
  analysis: string | undefined,
  token: string,
): CompletionRequest {
  const names = candidates.map((c) => c.label).sort();
  const parts = [
    ...(analysis === undefined ? SYNTHESIZE_UNANALYSED : SYNTHESIZE),
    fenceRules(token, analysis === undefined ? 'The responses' : 'The responses and the analysis'),
    `Responses (labelled ${names.join(', ')}):`,
    ...candidates.map((c) => fenceBlock(c.label, c.text, token)),
    ...(analysis === undefined ? [] : ['The analysis:', fenceBlock('ANALYSIS', analysis, token)]),
  ];
  const system: Message = { role: 'system', content: parts.join('\n\n') };
  return { ...request, messages: [system, ...request.messages] };
}
