import type { Expression } from './arithmetic.ts';
import { findExpression, statedNumber } from './arithmetic.ts';
import {
  draftLevel,
  issueFor,
  requestedLevel,
  revisionLine,
  type Subject,
  wrongResultIssue,
} from './revisions.ts';
import { fencedBlocks, inSentence, topicOf } from './text.ts';

/**
 * The demo as a reviewer (`{verdict, score, issues}`, consensus/review.ts) and as the author who
 * revises a draft against the reviewers' issues. A wrong calculation is always sent back with the
 * right result. Otherwise a draft is judged by how many revisions it has taken in: demo-smart, the
 * strict reviewer, accepts from the second revision on, the others from the first — so a review shows
 * real rounds, and a panel with demo-smart in it needs one more.
 */

export function subjectOf(instructions: string): Subject {
  return { topic: inSentence(topicOf(instructions)), expression: findExpression(instructions) };
}

/** The revision a reviewer wants before accepting. */
const requiredLevel = (model: string) => (model === 'demo-smart' ? 2 : 1);

export function reviewReply(model: string, prompt: string): string {
  const blocks = fencedBlocks(prompt);
  const instructions = blocks.find((b) => b.label === 'INSTRUCTIONS')?.text ?? '';
  const artifact = blocks.find((b) => b.label === 'ARTIFACT')?.text ?? '';
  const subject = subjectOf(instructions);
  const level = draftLevel(artifact);
  const wrong = wrongResult(artifact, subject.expression);
  if (wrong !== null) {
    return JSON.stringify({
      verdict: 'revise',
      score: 3,
      issues: [wrongResultIssue(level + 1, subject.expression!, wrong)],
    });
  }
  const required = requiredLevel(model);
  if (level >= required) {
    return JSON.stringify({
      verdict: 'accept',
      score: Math.min(9.5, 8.5 + 0.5 * (level - required)),
      issues: [],
    });
  }
  return JSON.stringify({ verdict: 'revise', score: 5 + 2 * level, issues: [issueFor(level + 1, subject)] });
}

/** The number a draft states when it differs from the calculation's value; null when right or not one. */
function wrongResult(artifact: string, expression: Expression | null): number | null {
  if (!expression) return null;
  const stated = statedNumber(artifact);
  return stated !== null && stated !== expression.value ? stated : null;
}

/**
 * The revised draft: the artifact with a wrong result corrected and one line per revision the issues
 * ask for, so the next review sees the progress.
 */
export function revisionReply(prompt: string): string {
  const blocks = fencedBlocks(prompt);
  const instructions = blocks.find((b) => b.label === 'INSTRUCTIONS')?.text ?? '';
  const artifact = (blocks.find((b) => b.label === 'ARTIFACT')?.text ?? '').trim();
  const issues = blocks.find((b) => b.label === 'ISSUES')?.text ?? '';
  return revise(artifact, issues, subjectOf(instructions));
}

/** `artifact` brought to the revision `feedback` asks for (at least one more than it has). */
export function revise(artifact: string, feedback: string, subject: Subject): string {
  const level = draftLevel(artifact);
  const target = Math.max(level + 1, requestedLevel(feedback));
  let text = artifact;
  const wrong = wrongResult(artifact, subject.expression);
  if (wrong !== null) {
    const stated = /\banswer is\s*-?\d+(?:\.\d+)?/i;
    text = stated.test(text)
      ? text.replace(stated, `answer is ${subject.expression!.value}`)
      : `The answer is ${subject.expression!.value}.\n\n${text}`;
  }
  const lines: string[] = [];
  for (let l = level + 1; l <= target; l++) lines.push(revisionLine(l, subject));
  if (wrong !== null) {
    lines[lines.length - 1] =
      `Revision ${target}: corrects the result: ${subject.expression!.source} = ${subject.expression!.value}.`;
  }
  return `${text}${level ? '\n' : '\n\n'}${lines.join('\n')}`;
}
