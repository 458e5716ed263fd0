/** One thing wrong with a workflow definition: where (`steps.distance.needs[1]`) and what to do about it. */
export interface Problem {
  path: string;
  message: string;
}

/** Paths render like the config loader's: `steps.distance.needs[1]`. */
export { formatPath } from '../../config/format-path.ts';

/**
 * Edit distance, for "did you mean" hints on misspelt names; stops at `limit + 1` as soon as every
 * path through a row is past `limit`, since a hint only cares about small distances.
 */
function editDistance(a: string, b: string, limit: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      row.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return limit + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/** Words longer than this get no hint: nobody misspells a 64-character name, and the cost is quadratic. */
const HINT_MAX_LENGTH = 64;

/**
 * Comparisons left for hints in the definition being checked. A hostile definition can hold hundreds of
 * thousands of unknown names, each compared with every step; past this budget the problems are still
 * reported, without hints. Parsing is synchronous, so one counter reset per definition is exact.
 */
const HINT_COMPARISONS = 20_000;
let comparisonsLeft = HINT_COMPARISONS;

/** Starts a definition's hint budget afresh (validateDefinition calls it first). */
export function resetHintBudget(): void {
  comparisonsLeft = HINT_COMPARISONS;
}

/** ` — did you mean "x"?` when one candidate is close enough to be a likely typo, else ``. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  if (word.length > HINT_MAX_LENGTH || comparisonsLeft <= 0) return '';
  const limit = Math.max(1, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    // The distance is at least the difference in length: most candidates are ruled out unread.
    if (Math.abs(c.length - word.length) > limit || c.length > HINT_MAX_LENGTH) continue;
    if (--comparisonsLeft < 0) return '';
    const d = editDistance(lower, c.toLowerCase(), limit);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= limit && bestDistance < word.length
    ? ` — did you mean "${best}"?`
    : '';
}

/** Names listed in one message at most: a message per problem must not grow with the workflow. */
const LISTED_NAMES = 20;

/**
 * Appends one list to another. `push(...items)` passes every item as an argument, and a hostile
 * definition can make a list longer than a call may take arguments (a RangeError, answered as a 500).
 */
export function append<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item);
}

/** Lists names for a message: `"a", "b"` (or `none`; past 20, `… and N more`). */
export function listNames(names: Iterable<string>): string {
  const all = [...names];
  if (!all.length) return 'none';
  const shown = all.slice(0, LISTED_NAMES).map((n) => `"${n}"`);
  return all.length > LISTED_NAMES
    ? `${shown.join(', ')} … and ${all.length - LISTED_NAMES} more`
    : shown.join(', ');
}
