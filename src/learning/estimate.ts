/**
 * The estimate itself, pure arithmetic. Each observation is a score in 0..1 (1: the answer was right)
 * with a weight; evidence is the decayed sums S = Σ w·score and N = Σ w, halving every half-life. The
 * catalog's quality p is a Beta prior worth k observations (k = prior_strength): the posterior mean is
 * (k·p + S) / (k + N) — a fractional Beta–Bernoulli update. Below `min_observations` (N, as shown) the
 * router keeps the prior, so a handful of early scores cannot move it.
 */
import type { QualityEstimate } from '../gateway/index.ts';

export interface LearningSettings {
  minObservations: number;
  halfLifeMs: number;
  priorStrength: number;
}

/** Decayed sums as of `at` (epoch ms). */
export interface Evidence {
  successes: number;
  trials: number;
  at: number;
}

export const DAY_MS = 86_400_000;

/** The factor an observation's weight has after `ageMs` (1 now, ½ after one half-life). */
export function decay(ageMs: number, halfLifeMs: number): number {
  return ageMs <= 0 ? 1 : 0.5 ** (ageMs / halfLifeMs);
}

/** The evidence as of `now`. */
export function decayed(e: Evidence, now: number, halfLifeMs: number): Evidence {
  const f = decay(now - e.at, halfLifeMs);
  return { successes: e.successes * f, trials: e.trials * f, at: Math.max(now, e.at) };
}

/** The evidence with one more observation at `now`. */
export function withObservation(
  e: Evidence | undefined,
  value: number,
  weight: number,
  now: number,
  halfLifeMs: number,
): Evidence {
  const base = e ? decayed(e, now, halfLifeMs) : { successes: 0, trials: 0, at: now };
  return { successes: base.successes + weight * value, trials: base.trials + weight, at: base.at };
}

/** Two decimals, as shown: the minimum is compared with what the API shows. */
const shown = (n: number) => Math.round(n * 100) / 100;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Prior, observed mean, effective quality and observation count, as of `now`. */
export function estimate(
  prior: number,
  evidence: Evidence | undefined,
  settings: LearningSettings,
  now: number,
): QualityEstimate {
  if (!evidence || evidence.trials <= 0) return { prior, observed: null, effective: prior, observations: 0 };
  const { successes, trials } = decayed(evidence, now, settings.halfLifeMs);
  const observations = shown(trials);
  const k = settings.priorStrength;
  const posterior = (k * prior + successes) / (k + trials);
  return {
    prior,
    observed: trials > 0 ? round4(successes / trials) : null,
    effective: observations >= settings.minObservations ? round4(posterior) : prior,
    observations,
  };
}
