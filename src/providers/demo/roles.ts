import type { ChatRequest } from '../../chat/index.ts';
import { synthesis } from './aggregate.ts';
import { analysisReply, fusedAnswer } from './fusion.ts';
import { bestOfNVerdict, uscVerdict } from './judge.ts';
import { reviewReply, revisionReply } from './review.ts';
import { stepJudgeReply } from './step-judge.ts';
import { lastUserText, systemText } from './text.ts';

/**
 * Quorum's own prompts, recognised by phrases of their system messages, and the demo's answer to
 * each in the format its parser reads. Each phrase is quoted from the prompt builder named beside it;
 * the demo's unit tests build those prompts with the real builders, so a reworded prompt fails there.
 */
export type Role =
  | 'judge'
  | 'usc'
  | 'reviewer'
  | 'author'
  | 'analyst'
  | 'synthesizer'
  | 'aggregator'
  | 'step_judge';

const MARKERS: [Role, RegExp][] = [
  // consensus/judge.ts judgeSystemPrompt
  ['judge', /You are an impartial judge\. You score candidate responses/],
  // consensus/usc.ts uscRequest
  ['usc', /Select the response that is most consistent with the others/],
  // consensus/review.ts reviewerRequest
  ['reviewer', /You are a meticulous, fair reviewer\./],
  // consensus/review.ts authorRequest
  ['author', /You revise an artifact so that it satisfies its instructions and resolves the issues/],
  // consensus/fusion-prompts.ts analysisRequest
  ['analyst', /You are an impartial analyst\. Several anonymous AI assistants have answered/],
  // consensus/fusion-prompts.ts synthesisRequest (before the aggregator: both open alike)
  ['synthesizer', /Write the best possible response to the user from them/],
  // consensus/ensemble.ts aggregatorRequest
  ['aggregator', /Several AI assistants have answered the latest user message/],
  // src/workflows/engine/execute-step.ts JUDGE_SYSTEM (the `until` judge)
  ['step_judge', /You are a strict judge\.[\s\S]*"critique"/],
];

export function roleOf(request: ChatRequest): Role | null {
  const system = systemText(request.messages);
  if (!system) return null;
  return MARKERS.find(([, re]) => re.test(system))?.[0] ?? null;
}

export interface RoleReply {
  text: string;
  /** The reply is already the JSON its parser reads: response_format must not reshape it. */
  json: boolean;
}

export function roleReply(model: string, request: ChatRequest): RoleReply | null {
  const role = roleOf(request);
  if (!role) return null;
  const user = lastUserText(request.messages);
  switch (role) {
    case 'judge':
      return { text: bestOfNVerdict(user), json: true };
    case 'usc':
      return { text: uscVerdict(user), json: true };
    case 'reviewer':
      return { text: reviewReply(model, user), json: true };
    case 'author':
      return { text: revisionReply(user), json: false };
    case 'analyst':
      return { text: analysisReply(user), json: true };
    case 'synthesizer':
      return { text: fusedAnswer(model, systemText(request.messages), user), json: false };
    case 'aggregator':
      return { text: synthesis(model, systemText(request.messages), user), json: false };
    case 'step_judge':
      return { text: stepJudgeReply(user), json: true };
  }
}
