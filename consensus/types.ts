/**
 * The consensus module's inputs and outputs. Every strategy is a function of its inputs plus an injected
 * `complete` — the only way it reaches a model — so strategies are tested with deterministic fakes and
 * the gateway supplies the real call path (routing, fallback, budgets, telemetry).
 */

/** The message shapes strategies read and write (a subset of the OpenAI chat message). */
export interface Message {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string | null | { type: string; text?: string; [k: string]: unknown }[];
  [extra: string]: unknown;
}

/** A chat request as strategies see it: the client's body (minus routing fields) or one they build. */
export interface CompletionRequest {
  messages: Message[];
  temperature?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  response_format?: { type: string; [k: string]: unknown };
  [extra: string]: unknown;
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** One answered model call. */
export interface Completion {
  /** Catalog id of the model that answered (after any fallback). */
  model: string;
  content: string;
  usage: TokenUsage;
  cost_usd: number;
  latency_ms: number;
}

/**
 * Calls one model. Rejects on failure (after the gateway's own retries and fallback) and when `signal`
 * aborts; strategies treat a rejection as that candidate failing.
 */
export type Complete = (
  model: string,
  request: CompletionRequest,
  signal: AbortSignal,
) => Promise<Completion>;

export type Strategy = 'consensus' | 'best_of_n' | 'ensemble' | 'fusion' | 'review';

/** What a call is for, in a strategy. */
export type CallRole = 'candidate' | 'judge' | 'aggregator' | 'reviewer' | 'author';

/** A candidate in the aggregation record (the API's `quorum.candidates[]`). */
export interface CandidateRecord {
  model: string;
  content: string | null;
  usage: TokenUsage;
  cost_usd: number;
  latency_ms: number;
  score?: number;
  error?: string;
  /** ensemble: the proposer layer (1-based) this answer belongs to. */
  layer?: number;
  /** A self-ensemble's sample: the temperature this candidate was asked at. */
  temperature?: number;
  /**
   * ensemble and fusion: marks the answer written from the candidates (the aggregator's synthesis,
   * fusion's final answer), appended after them (`selected` points at it).
   */
  role?: 'aggregator';
}

/**
 * fusion: the judge's structured analysis of the candidates, naming candidates by `C` — the labels the
 * analyst was shown while it is read (`LabelledAnalysis`), their index in `candidates` in the record.
 */
export interface Analysis<C> {
  /** Points the candidates share, and who makes each. */
  agreements: { point: string; candidates: C[] }[];
  /** Where candidates conflict: each position and who holds it, and the judge's assessment of them. */
  contradictions: { topic: string; positions: { claim: string; candidates: C[] }[]; assessment?: string }[];
  /** Points some candidates cover and others leave out (who covers each). */
  partial_coverage: { point: string; candidates: C[] }[];
  /** What only one candidate says, with the judge's assessment of it. */
  unique_insights: { insight: string; candidate: C; assessment?: string }[];
  /** What no candidate covers that the request needs: blind spots, unstated assumptions, caveats. */
  gaps: string[];
}

/** The analysis in the `quorum` record: candidates by index in `candidates`, as `groups.members` are. */
export type FusionAnalysis = Analysis<number>;

/**
 * A part of a fan-out that failed without failing the answer: a judge whose every pass failed (fusion:
 * whose analysis failed or was unreadable, so the answer was written without it), an aggregator or
 * fusion synthesizer that did not answer (the candidates' vote stands), a reviewer whose review failed
 * or was unreadable, an author whose revision failed (the best reviewed draft stands).
 */
export type Degradation = 'judge_failed' | 'aggregator_failed' | 'reviewer_failed' | 'author_failed';

/** What every fan-out strategy returns. */

export interface AggregationResult {
  strategy: Strategy;
  /** The final answer (`choices[0].message.content`). */
  content: string;
  /** Catalog id reported as the response's `model`: the selected candidate's, or the aggregator's. */
  model: string;
  candidates: CandidateRecord[];
  /** Share of answered candidates agreeing with the selected answer, 0..1. */
  agreement: number;
  /** Answer groups (consensus): normalised answer → candidate indices. */
  groups?: { answer: string; members: number[] }[];
  selected: { index: number; model: string };
  judge?: { model: string; rationale: string };
  /** fusion: the judge's analysis the final answer was written from (absent when it failed). */
  analysis?: FusionAnalysis;
  /** What the strategy had to do without (see Degradation). The answer stands, but says so. */
  degraded?: Degradation[];
  /** Every call made (candidates, judge, aggregator), for usage and cost sums. */
  calls: Completion[];
}

export interface FanOutOptions {
  /** Candidate models, in order; a model may repeat (n samples of one model). */
  models: string[];
  /**
   * Self-ensembles: the temperature each candidate is asked at, by position in `models` (undefined: the
   * request's own). Each candidate's record carries its temperature.
   */
  temperatures?: readonly (number | undefined)[];
  /** consensus: tie-break/synthesis · best_of_n: scorer · ensemble: aggregator · fusion: analyst. */
  judge?: string;
  /** fusion: writes the final answer from the candidates and the analysis (default: the judge). */
  synthesizer?: string;
  /** Answer once this many candidates are in; the rest are aborted. Default: all. */
  quorum?: number;
  /** Seed for anything order-dependent (judge order randomisation). */
  seed?: number;
  /** best_of_n: judge in both orders to cancel position bias (default true). */
  bothOrders?: boolean;
  /** ensemble: proposer layers (default 1). */
  layers?: number;
  /** best_of_n: what the judge scores against. */
  rubric?: string;
}

export interface ReviewOptions {
  artifact: string;
  instructions: string;
  reviewers: string[];
  /** Revises the artifact between rounds when given. */
  author?: string;
  /**
   * The most output tokens a revision may have. When the revision is the answer to a request (the chat
   * strategy), the request's own limit: the budget hold prices revisions by it.
   */
  authorMaxTokens?: number;
  /** Self-ensembles: each reviewer's temperature, by position in `reviewers` (undefined: 0). */
  reviewerTemperatures?: readonly (number | undefined)[];
  /** Upper bound on review rounds (default 3). */
  rounds?: number;
  /** Score (0..10) at which the artifact passes (default 8). */
  threshold?: number;
  /** Seed for the prompts' fence tokens. */
  seed?: number;
}

export interface Review {
  reviewer: string;
  /** A self-ensemble's sample: the temperature this reviewer was asked at. */
  temperature?: number;
  round: number;
  verdict: 'accept' | 'revise' | 'reject';
  score: number;
  issues: string[];
  error?: string;
}

export interface ReviewResult {
  reviews: Review[];
  /** Consolidated verdict of the last round. */
  verdict: 'accept' | 'revise' | 'reject';
  /** Consolidated (mean) score of the returned draft, `artifact`; `history` has every round's. */
  score: number;
  /** The best-scored draft (not merely the last). */
  artifact: string;
  /** Which round produced it (0 = the original). */
  best_round: number;
  rounds: number;
  /**
   * Why the loop stopped. `author_failed`: a revision failed; `reviewers_failed`: no reviewer could
   * read a revision. Either way the best draft reviewed so far is returned, and `degraded` says so.
   */
  stopped_by:
    | 'accepted'
    | 'threshold'
    | 'no_new_issues'
    | 'max_rounds'
    | 'no_author'
    | 'author_failed'
    | 'reviewers_failed';
  /** `reviewer_failed` when any review failed or was unreadable; `author_failed` when a revision failed. */
  degraded?: Degradation[];
  calls: Completion[];
  /** Per round: the consolidated verdict, mean score, merged issues and how many of them were new. */
  history?: {
    round: number;
    verdict: Review['verdict'];
    score: number;
    issues: string[];
    new_issues: number;
  }[];
}
