/**
 * Every call a strategy may make, for worst-case cost reservation (the gateway's `maxCost(plan)`).
 * `maxTokens` is the output cap the strategy itself sets; undefined means the client's request (or the
 * model's own limit) governs. Judge, reviewer and author prompts hold every candidate / the artifact, so
 * estimate their prompt tokens from the sum of the candidates' outputs plus the request. Fusion = the
 * candidates, the analyst (capped output) and the synthesizer, which also reads the analysis.
 */
import {
  ANALYSIS_MAX_TOKENS,
  ANALYSIS_PROMPT_TOKENS,
  FENCE_TOKENS_PER_BLOCK,
  RENDERED_ANALYSIS_TOKENS,
  SYNTHESIS_PROMPT_TOKENS,
} from './fusion-prompts.ts';
import { JUDGE_MAX_TOKENS } from './judge.ts';
import { DEFAULT_ROUNDS, REVIEW_MAX_TOKENS } from './review.ts';
import type { CallRole, FanOutOptions, ReviewOptions, Strategy } from './types.ts';

export interface PlannedCall {
  model: string;
  role: CallRole;
  maxTokens?: number;
  /**
   * What the strategy's own prompt adds around the request and the candidates' answers (instructions,
   * fence lines, an analysis), in tokens at most; absent: the gateway's general allowance.
   */
  promptTokens?: number;
}

export function plannedCalls(strategy: Exclude<Strategy, 'review'>, options: FanOutOptions): PlannedCall[] {
  const layers = strategy === 'ensemble' ? Math.max(1, Math.floor(options.layers ?? 1)) : 1;
  const out: PlannedCall[] = [];
  for (let l = 0; l < layers; l++) for (const model of options.models) out.push({ model, role: 'candidate' });
  const judge = options.judge;
  if (!judge) return out;
  if (strategy === 'consensus') out.push({ model: judge, role: 'judge', maxTokens: JUDGE_MAX_TOKENS });
  if (strategy === 'best_of_n') {
    const passes = options.bothOrders === false ? 1 : 2;
    for (let p = 0; p < passes; p++) out.push({ model: judge, role: 'judge', maxTokens: JUDGE_MAX_TOKENS });
  }
  if (strategy === 'ensemble') out.push({ model: judge, role: 'aggregator' });
  if (strategy === 'fusion') {
    const fences = (options.models.length + 2) * FENCE_TOKENS_PER_BLOCK;
    out.push({
      model: judge,
      role: 'judge',
      maxTokens: ANALYSIS_MAX_TOKENS,
      promptTokens: ANALYSIS_PROMPT_TOKENS + fences,
    });
    out.push({
      model: options.synthesizer ?? judge,
      role: 'aggregator',
      promptTokens: SYNTHESIS_PROMPT_TOKENS + fences + RENDERED_ANALYSIS_TOKENS,
    });
  }
  return out;
}

export function plannedReviewCalls(options: ReviewOptions): PlannedCall[] {
  const rounds = options.author ? Math.max(1, Math.floor(options.rounds ?? DEFAULT_ROUNDS)) : 1;
  const out: PlannedCall[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const model of options.reviewers)
      out.push({ model, role: 'reviewer', maxTokens: REVIEW_MAX_TOKENS });
    if (options.author && r < rounds - 1) out.push({ model: options.author, role: 'author' });
  }
  return out;
}
