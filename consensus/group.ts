/** Grouping answered candidates by normalised answer, and agreement with a selection. */
import type { Answer } from './gather.ts';
import { type AnswerKind, normalizeAnswer } from './normalize.ts';

export interface AnswerGroup {
  /** The normalised key ("42", "B", canonical JSON, normalised text or code). */
  answer: string;
  kind: AnswerKind;
  /** Candidate indices, ascending. */
  members: number[];
}

/** Largest group first; equal sizes keep candidate order (the group whose first member came first). */
export function groupAnswers(answers: readonly Answer[]): AnswerGroup[] {
  const byKey = new Map<string, AnswerGroup>();
  for (const { index, completion } of answers) {
    const { kind, key } = normalizeAnswer(completion.content);
    const id = `${kind}\u0000${key}`;
    const group = byKey.get(id);
    if (group) group.members.push(index);
    else byKey.set(id, { answer: key, kind, members: [index] });
  }
  return [...byKey.values()].sort(
    (a, b) => b.members.length - a.members.length || a.members[0]! - b.members[0]!,
  );
}

/** Share of answered candidates in the same group as `index`. */
export function agreementOf(groups: readonly AnswerGroup[], index: number, answered: number): number {
  const group = groups.find((g) => g.members.includes(index));
  return group && answered ? group.members.length / answered : 0;
}

/** The record's `groups` field. */
export function groupsRecord(groups: readonly AnswerGroup[]): { answer: string; members: number[] }[] {
  return groups.map((g) => ({ answer: g.answer, members: g.members }));
}
