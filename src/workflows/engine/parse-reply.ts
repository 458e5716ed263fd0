/** Tolerant readers for model replies: JSON in a ``` fence or surrounded by prose, a judge's score. */

const FENCE = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/;

/** The JSON value in a reply: a fenced block, the whole text, or its outermost {…} / […]. */
export function parseJsonReply(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const fenced = FENCE.exec(text)?.[1];
  const candidates = [fenced, text].filter((c): c is string => c !== undefined).map((c) => c.trim());
  for (const open of ['{', '[']) {
    const close = open === '{' ? '}' : ']';
    const start = text.indexOf(open);
    const end = text.lastIndexOf(close);
    if (start >= 0 && end > start) candidates.push(text.slice(start, end + 1));
  }
  let error: string | undefined;
  for (const candidate of candidates) {
    if (candidate === '') continue;
    try {
      return { ok: true, value: JSON.parse(candidate) };
    } catch (err) {
      error ??= (err as Error).message; // the first candidate's error is the one worth showing
    }
  }
  return { ok: false, error: `not JSON: ${error ?? 'empty reply'}` };
}

export interface JudgeScore {
  score: number;
  critique: string;
}

const clamp = (n: number) => Math.min(10, Math.max(0, n));

/**
 * `{"score": n, "critique": "…"}` as judges actually write it: fenced, with prose around, the score as
 * a string, `feedback` instead of `critique`, or no JSON at all ("Score: 7/10. …"). null when no score.
 */
export function parseJudgeReply(text: string): JudgeScore | null {
  const json = parseJsonReply(text);
  if (json.ok && typeof json.value === 'object' && json.value !== null && !Array.isArray(json.value)) {
    const v = json.value as Record<string, unknown>;
    const score = typeof v.score === 'string' ? Number.parseFloat(v.score) : v.score;
    if (typeof score === 'number' && Number.isFinite(score)) {
      const critique = [v.critique, v.feedback, v.reason].find((c) => typeof c === 'string') as
        | string
        | undefined;
      return { score: clamp(score), critique: critique ?? '' };
    }
  }
  const match =
    /score["'\s]*[:=]?\s*(\d+(?:\.\d+)?)/i.exec(text) ?? /\b(\d+(?:\.\d+)?)\s*\/\s*10\b/.exec(text);
  if (!match) return null;
  return { score: clamp(Number.parseFloat(match[1]!)), critique: text.trim() };
}
