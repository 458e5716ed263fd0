/**
 * A model's learnt quality for one task, as POST /v1/route shows it: each figure weighted by the task's
 * categories exactly as the router weights quality, so `effective` is the candidate's `scores.quality`.
 */
import { CATEGORIES, type Category } from '../../../routing/types.ts';
import type { LearningHook, QualityEstimate } from '../deployments/index.ts';

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

export function learnedQuality(
  learning: LearningHook,
  model: string,
  weights: Readonly<Record<Category, number>>,
): QualityEstimate | undefined {
  const estimates = learning.estimates(model);
  if (!estimates) return undefined;
  let prior = 0;
  let effective = 0;
  let observations = 0;
  let observedSum = 0;
  let observedWeight = 0;
  for (const c of CATEGORIES) {
    const w = weights[c];
    const e = estimates[c];
    prior += w * e.prior;
    effective += w * e.effective;
    observations += w * e.observations;
    if (e.observed !== null) {
      observedSum += w * e.observed;
      observedWeight += w;
    }
  }
  return {
    prior: round4(prior),
    // Over the categories with observations only: a category never observed says nothing either way.
    observed: observedWeight > 0 ? round4(observedSum / observedWeight) : null,
    effective: round4(effective),
    observations: Math.round(observations * 100) / 100,
  };
}
