/**
 * Load balancing across catalog entries that share one model id (the same model on two providers or
 * two keys). Traffic follows `weight`, discounted by the calls each deployment already has in flight.
 */
import type { Deployment } from './deployment.ts';
import type { HealthTracker } from './health.ts';

interface Scored {
  dep: Deployment;
  score: number;
}

/**
 * The order to try `deps` in: the first drawn at random with probability ∝ weight / (1 + inFlight), the
 * rest by that score, highest first (ties keep config order).
 *
 * Open circuits are moved to the end (config order) rather than dropped: the output is always a
 * permutation of the input, and admission stays the breaker's job alone — the caller still asks
 * `health.begin()` before each try, which refuses an open deployment at no cost but admits a probe if
 * its cooldown ends while the request is still working down the chain. Half-open deployments keep
 * their normal share: they need traffic to be probed at all.
 *
 * `pick` returns a random number in [0, 1); injected so tests are deterministic.
 */
export function orderDeployments(
  deps: readonly Deployment[],
  health: HealthTracker,
  pick: () => number,
): Deployment[] {
  if (deps.length < 2) return [...deps];
  const usable: Scored[] = [];
  const open: Deployment[] = [];
  for (const dep of deps) {
    const h = health.view(dep.spec);
    if (h?.circuit === 'open') open.push(dep);
    else usable.push({ dep, score: dep.spec.weight / (1 + (h?.inFlight ?? 0)) });
  }
  if (usable.length === 0) return open;

  const total = usable.reduce((sum, s) => sum + s.score, 0);
  let r = pick() * total;
  let first = usable.length - 1; // float rounding can leave r a hair above the last boundary
  for (const [i, s] of usable.entries()) {
    r -= s.score;
    if (r < 0) {
      first = i;
      break;
    }
  }
  const [chosen] = usable.splice(first, 1);
  usable.sort((a, b) => b.score - a.score); // stable: equal scores keep config order
  return [chosen!.dep, ...usable.map((s) => s.dep), ...open];
}
