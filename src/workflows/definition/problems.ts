/** One thing wrong with a workflow definition: where (`steps.distance.needs[1]`) and what to do about it. */
export interface Problem {
  path: string;
  message: string;
}

/** Paths render like the config loader's: `steps.distance.needs[1]`. */
export { formatPath } from '../../config/format-path.ts';

/** Edit distance, for "did you mean" hints on misspelt names. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** ` — did you mean "x"?` when one candidate is close enough to be a likely typo, else ``. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= limit && bestDistance < word.length
    ? ` — did you mean "${best}"?`
    : '';
}

/** Lists names for a message: `"a", "b"` (or `none`). */
export function listNames(names: Iterable<string>): string {
  const all = [...names].map((n) => `"${n}"`);
  return all.length ? all.join(', ') : 'none';
}
