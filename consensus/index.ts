export { type LabelledAnalysis, parseAnalysis } from './analysis-parse.ts';
export { bestOfN } from './best-of-n.ts';
export { type PlannedCall, plannedCalls, plannedReviewCalls } from './call-plan.ts';
export { consensus } from './consensus.ts';
export {
  aggregatorRequest,
  ensemble,
  ensembleFallback,
  ensembleResult,
  ensembleStages,
  type Proposals,
  propose,
  referencesRequest,
} from './ensemble.ts';
export { escapeFence, fenceBlock, fenceRules, label, tokenFor } from './fence.ts';
export {
  type FusionDraft,
  fusion,
  fusionFallback,
  fusionResult,
  fusionStages,
  fusionSynthesis,
  prepareFusion,
  renderAnalysis,
} from './fusion.ts';
export {
  ANALYSIS_MAX_TOKENS,
  ANALYSIS_SCHEMA,
  analysisRequest,
  synthesisRequest,
} from './fusion-prompts.ts';
export {
  type Answer,
  errorMessage,
  GatherError,
  type Gathered,
  gather,
  NOT_NEEDED,
  needed,
  UNREACHABLE,
} from './gather.ts';
export { type AnswerGroup, agreementOf, groupAnswers } from './group.ts';
export { DEFAULT_RUBRIC, JUDGE_MAX_TOKENS, judgeRequest, judgeSystemPrompt } from './judge.ts';
export { findJsonObjects, parseLooseJson } from './loose-json.ts';
export {
  type AnswerKind,
  canonicalJson,
  type NormalizedAnswer,
  normalizeAnswer,
  normalizeText,
} from './normalize.ts';
export { DEFAULT_SEED, mulberry32, shuffle } from './prng.ts';
export { requestText } from './request-text.ts';
export {
  authorRequest,
  consolidate,
  DEFAULT_ROUNDS,
  DEFAULT_THRESHOLD,
  REVIEW_MAX_TOKENS,
  review,
  reviewerRequest,
} from './review.ts';
export { type ParsedReview, parseReview } from './review-parse.ts';
export { gatherSamples, sampleRequest } from './samples.ts';
export { type Prepared, runStaged, type Staged, writerStopped } from './staged.ts';
export { describeAttempts, type FailedAttempt, StrategyFailure } from './strategy-failure.ts';
export type * from './types.ts';
export { uscRequest } from './usc.ts';
export { parseScore, parseVerdict, toLabel, type Verdict } from './verdict.ts';

import { bestOfN } from './best-of-n.ts';
import { consensus } from './consensus.ts';
import { ensemble } from './ensemble.ts';
import { fusion } from './fusion.ts';
import type { AggregationResult, Complete, CompletionRequest, FanOutOptions, Strategy } from './types.ts';

/** Dispatch a fan-out strategy by name (review has its own entry point: `review`). */
export function aggregate(
  strategy: Exclude<Strategy, 'review'>,
  request: CompletionRequest,
  options: FanOutOptions,
  complete: Complete,
  signal: AbortSignal,
): Promise<AggregationResult> {
  const run = { consensus, best_of_n: bestOfN, ensemble, fusion }[strategy];
  return run(request, options, complete, signal);
}
