/**
 * Universal Self-Consistency (Chen et al., 2023): when free-form answers cannot be grouped by exact
 * match, ask a model which response is most consistent with the others — the free-form analogue of a
 * majority vote. Same fencing and anonymity as the judge.
 */
import { fenceBlock, fenceRules, label } from './fence.ts';
import { JUDGE_MAX_TOKENS } from './judge.ts';
import { requestText } from './request-text.ts';
import type { CompletionRequest } from './types.ts';

export function uscRequest(
  request: CompletionRequest,
  responses: readonly string[],
  token: string,
): CompletionRequest {
  const labels = responses.map((_, i) => label(i));
  const system = [
    'You are given several responses to the same request. Select the response that is most consistent with the others: the one whose substance (facts, conclusions, final answer) agrees with the most other responses. Do not reward style, length or position.',
    fenceRules(token, 'The request and the responses'),
    `Reply with only a JSON object: {"best": "<one of ${labels.join(', ')}>", "rationale": "one sentence"}`,
  ].join('\n\n');
  const user = [
    'The request:',
    fenceBlock('REQUEST', requestText(request), token),
    `The responses (${labels.join(', ')}):`,
    ...responses.map((r, i) => fenceBlock(labels[i]!, r, token)),
    'Which response is most consistent with the others? Reply with the JSON object only.',
  ].join('\n\n');
  return {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    temperature: 0,
    max_tokens: JUDGE_MAX_TOKENS,
  };
}
