import { subjectOf } from './review.ts';
import { draftLevel, issueFor } from './revisions.ts';

/**
 * The demo as the workflow engine's `until` judge (`{"score", "critique"}`, parsed by
 * src/workflows/engine/parse-reply.ts). The score rises with each revision the output has taken in —
 * 5, 7, 8.5, then 9.5 — and the critique asks for the next one, so a loop reaches a typical
 * min_score within a few iterations, the same way every time.
 */
const SCORES = [5, 7, 8.5, 9.5];

export function stepJudgeReply(prompt: string): string {
  const at = prompt.indexOf('\n\nOutput:\n');
  const criteria = (at >= 0 ? prompt.slice(0, at) : prompt).replace(/^Criteria:\s*/, '');
  const output = at >= 0 ? prompt.slice(at + '\n\nOutput:\n'.length) : prompt;
  const level = draftLevel(output);
  const score = SCORES[Math.min(level, SCORES.length - 1)]!;
  const critique = `Scored ${score} out of 10 against the criteria. ${issueFor(level + 1, subjectOf(criteria))}`;
  return JSON.stringify({ score, critique });
}
