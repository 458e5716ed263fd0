/**
 * The seam between the gateway and what the router learns from outcomes (src/learning implements it):
 * the catalog as the router should score it, each model's quality estimate for display, and where
 * answers and reviews are reported. The gateway only calls it; it never waits on it.
 */
import type { TaskProfile } from '../../../routing/route-types.ts';
import type { Category, ModelSpec } from '../../../routing/types.ts';
import type { ChatRequest } from '../../chat/index.ts';

/** One model's quality in one category: the catalog's, what was observed, what the router uses. */
export interface QualityEstimate {
  /** The catalog's quality (the prior). */
  prior: number;
  /** The mean of the observed scores (decayed), or null before the first observation. */
  observed: number | null;
  /** What the router scores with: the prior until `min_observations`, then the posterior mean. */
  effective: number;
  /** Observations, decayed by age (one observation of a day's age counts slightly under 1). */
  observations: number;
}

/** An answer whose `quorum` record is complete. */
export interface AnsweredRequest {
  requestId: string;
  team: string;
  /** Catalog id of the model whose answer the client got (a fan-out's selected or aggregator model). */
  model: string;
  request: ChatRequest;
  /** The router's task analysis, when the request was routed (`auto`); else analysed when needed. */
  task: TaskProfile | undefined;
  /** The answer's `quorum` record: a fan-out's candidates get their `learning` entry here. */
  record: Record<string, unknown>;
  /** The answer's text, when known (a JSON-schema answer is checked against its schema). */
  text: string | null | undefined;
  /** A cache hit: the answer was learnt from when it was first given. */
  cached: boolean;
}

/** A review with an author (POST /v1/reviews, workflow review steps): the author's revisions were scored. */
export interface ReviewedRequest {
  requestId: string;
  team: string;
  author: string;
  /** The instructions and the artifact, for the category. */
  text: string;
  /** Every review: its round and score (0..10). Round 1 reviews the original, later rounds the author's revisions. */
  reviews: readonly { round: number; score: number; error?: string }[];
}

export interface LearningHook {
  /**
   * The catalog as the router scores it: the same deployments in the same order, each with its
   * effective quality. Rebuilt only when an estimate changed.
   */
  models(): readonly ModelSpec[];
  /** A model's estimates by category, or undefined when the model is unknown or learning is off. */
  estimates(model: string): Readonly<Record<Category, QualityEstimate>> | undefined;
  /** Synchronous and cheap: notes the request for feedback and learns from its record off the request path. */
  answered(answer: AnsweredRequest): void;
  reviewed(review: ReviewedRequest): void;
}
