/**
 * The one-line reason a route plan gives for its choice: why the chosen model beat the next one under
 * the policy (the bar it cleared, the price or speed it won on, or the tie-break), in words a person
 * reads in `quorum.route.why` and POST /v1/route. Pure, like the rest of routing/.
 */
import { QUALITY_HEADROOM } from './score.ts';
import type { Policy } from './types.ts';

/** What the explanation needs of a ranked candidate. */
export interface Ranked {
  id: string;
  quality: number;
  total: number;
  latencyMs: number;
  /** Expected cost in USD (what the ranking uses). */
  cost: number;
}

const q = (x: number) => x.toFixed(2);
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);

/** "4.2× cheaper", "2.0× the price", or null when the costs are about the same. */
function ratio(a: number, b: number): string | null {
  if (a <= 0 && b <= 0) return null;
  if (a <= 0) return 'free';
  if (b <= 0) return null;
  const r = b / a;
  if (r >= 1.05) return `${r.toFixed(r >= 10 ? 0 : 1)}× cheaper`;
  if (r <= 1 / 1.05) return `${(1 / r).toFixed(1 / r >= 10 ? 0 : 1)}× the price`;
  return null;
}

/** The tie-break that ordered two candidates with the same total (see route.ts `compare`). */
function tieBreak(a: Ranked, b: Ranked): string {
  if (a.latencyMs !== b.latencyMs) return `faster (${ms(a.latencyMs)} vs ${ms(b.latencyMs)})`;
  if (a.cost !== b.cost) return 'cheaper';
  return 'first by id';
}

/**
 * Why `chosen` ranks above `next` (undefined: it is the only eligible model). `excluded` is how many
 * catalog models could not serve the request at all.
 */
export function explainChoice(
  policy: Policy,
  bar: number,
  chosen: Ranked | undefined,
  next: Ranked | undefined,
  excluded: number,
): string {
  if (!chosen) return `no model can serve this request (${excluded} excluded; see candidates)`;
  const name = `\`${chosen.id}\``;
  if (!next) {
    return excluded > 0
      ? `${name} is the only model that can serve this request (${excluded} excluded)`
      : `${name} is the only model`;
  }
  const other = `\`${next.id}\``;
  if (chosen.total === next.total)
    return `${name} ties ${other} on ${policy} score and is ${tieBreak(chosen, next)}`;
  if (policy === 'quality') {
    return `${name} has the highest expected quality (${q(chosen.quality)} vs ${q(next.quality)} for ${other})`;
  }
  if (chosen.total < 0) {
    return `no model clears the bar ${q(bar)}; ${name} comes closest (${q(chosen.quality)} vs ${q(next.quality)} for ${other})`;
  }
  if (next.total < 0) {
    return `${name} clears the bar ${q(bar)} (quality ${q(chosen.quality)}); the next, ${other}, falls short (${q(next.quality)})`;
  }
  const both = `both clear the bar ${q(bar)}`;
  const price = ratio(chosen.cost, next.cost);
  if (policy === 'cost') return `${both}; ${name} is ${price ?? 'cheaper'} than ${other}`;
  if (policy === 'latency')
    return `${both}; ${name} is faster (${ms(chosen.latencyMs)} vs ${ms(next.latencyMs)} for ${other})`;
  // balanced: usable quality per log-dollar.
  const cap = bar + QUALITY_HEADROOM;
  const gain = chosen.quality - next.quality;
  if (q(chosen.quality) === q(next.quality)) {
    return `${both}; ${name} is as good (${q(chosen.quality)}) and ${price ?? 'about as costly'}${price === null ? ' as' : ' than'} ${other}`;
  }
  if (gain < 0) {
    const beyond = next.quality > cap ? `; above ${q(cap)} quality buys nothing on this task` : '';
    return `${both}; ${name} is ${price ?? 'about as costly'} and ${other} is only ${q(-gain)} better (${q(next.quality)} vs ${q(chosen.quality)})${beyond}`;
  }
  if (price === null || price.endsWith('cheaper') || price === 'free') {
    return `${both}; ${name} is better (${q(chosen.quality)} vs ${q(next.quality)}) and ${price ?? 'about as costly'} than ${other}`;
  }
  return `${both}; ${name} is ${q(gain)} better than ${other} (${q(chosen.quality)} vs ${q(next.quality)}), worth ${price}`;
}
