import type { Expression } from './arithmetic.ts';

/**
 * How demo drafts improve under feedback, so review rounds and `until` loops make visible progress.
 * A demo draft carries one line per revision it has taken in ("Revision 2: …", its level); every
 * critique or issue the demo writes names the revision it asks for ("… (next: revision 2)"). An author
 * that reads such a request writes that revision; a judge or reviewer scores a draft by its level. So
 * a first draft is sent back with a concrete issue, and each revision scores higher than the last.
 */

const DRAFT_LINE = /^Revision (\d+):/gm;
const NEXT = /\bnext: revision (\d+)\b/gi;

/** What a draft is about: a topic, and the arithmetic it answers when it is a calculation. */
export interface Subject {
  topic: string;
  expression: Expression | null;
}

const maxOf = (text: string, re: RegExp) => {
  let n = 0;
  for (const m of text.matchAll(re)) n = Math.max(n, Number(m[1]));
  return n;
};

/** How many revisions a draft has taken in (0 for a first draft). */
export function draftLevel(text: string): number {
  return maxOf(text, DRAFT_LINE);
}

/**
 * `text` without the demo's own critiques and issues ("Scored 5 out of 10 … (next: revision 1)."), so
 * their numbers are not read as the question. Each is cut back to the start of its sentence or line
 * (at most 400 characters), so the work stays linear in the text.
 */
export function withoutCritiques(text: string): string {
  const marker = /\(next: revision \d+\)\.?/gi;
  let out = '';
  let from = 0;
  for (const m of text.matchAll(marker)) {
    let start = m.index;
    const floor = Math.max(from, start - 400);
    while (start > floor && text[start - 1] !== '\n' && !/[.!?]\s$/.test(text.slice(start - 2, start)))
      start--;
    const scored = /Scored [\d.]+ out of 10 against the criteria\. $/.exec(
      text.slice(Math.max(from, start - 60), start),
    );
    if (scored) start -= scored[0].length;
    out += text.slice(from, start);
    from = m.index + m[0].length;
  }
  return out + text.slice(from);
}

/** The revision the demo's critiques or issues in `text` ask for; 0 when they ask for none. */
export function requestedLevel(text: string): number {
  return maxOf(text, NEXT);
}

interface Improvement {
  issue: (s: Subject) => string;
  done: (s: Subject) => string;
}

const GENERAL: Improvement[] = [
  {
    issue: () => 'Add a concrete example that shows the point in practice',
    done: (s) => `adds a concrete example of ${s.topic} in practice.`,
  },
  {
    issue: () => 'Say who it is for and end with one clear next step',
    done: () => 'says who it is for and ends with one clear next step.',
  },
  {
    issue: () => 'Open with a one-sentence summary and cut the repetition',
    done: () => 'opens with a one-sentence summary and cuts the repetition.',
  },
];

const ARITHMETIC: Improvement[] = [
  {
    issue: () => 'Show the working so the result can be checked',
    done: (s) => `shows the working: ${s.expression!.source} = ${s.expression!.value}.`,
  },
  {
    issue: () => 'Check the result a second way and say so',
    done: (s) => `checks the result a second way; ${s.expression!.value} holds.`,
  },
];

const FURTHER: Improvement = {
  issue: () => 'Tighten the wording once more',
  done: () => 'tightens the wording once more.',
};

function improvement(level: number, subject: Subject): Improvement {
  const list = subject.expression ? ARITHMETIC : GENERAL;
  return list[level - 1] ?? FURTHER;
}

/** The issue that asks for revision `level` (≥ 1), with its marker. */
export function issueFor(level: number, subject: Subject): string {
  return `${improvement(level, subject).issue(subject)} (next: revision ${level}).`;
}

/** The issue for a wrong result, asking for revision `level`. */
export function wrongResultIssue(level: number, expression: Expression, stated: number): string {
  return `The result is wrong: ${expression.source} is ${expression.value}, not ${stated} (next: revision ${level}).`;
}

/** The line a draft at revision `level` carries. */
export function revisionLine(level: number, subject: Subject): string {
  return `Revision ${level}: ${improvement(level, subject).done(subject)}`;
}

/** The revision lines of a draft brought from revision `from` to revision `to`. */
export function revisionLines(from: number, to: number, subject: Subject): string[] {
  const out: string[] = [];
  for (let level = from + 1; level <= to; level++) out.push(revisionLine(level, subject));
  return out;
}
