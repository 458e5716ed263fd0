import {
  CLAUSE,
  CODE,
  CONSTRAINT,
  GENERAL,
  GREETING,
  MATH,
  REASONING,
  type Signal,
  WRITING,
} from './signals.ts';
import type { TaskText } from './task-text.ts';
import { CATEGORIES, type Category } from './types.ts';

/** Weight of the rest of the conversation against the last user message: context nudges, the ask decides. */
const CONTEXT_WEIGHT = 0.5;
/** Every task is a little "general": with no cue at all, general takes everything. */
const GENERAL_BASE = 1;
/** A greeting or thanks is general however it is worded. */
const GREETING_BONUS = 3;
/** Each constraint word or list item nudges toward reasoning (multi-step), lightly: writing has them too. */
const CONSTRAINT_WEIGHT = 0.25;
const CONSTRAINT_CAP = 1;

/** Matches of `re` in `text`, counting no further than `limit` (a capped signal need not scan on). */
export function countMatches(re: RegExp, text: string, limit = Number.POSITIVE_INFINITY): number {
  re.lastIndex = 0;
  let n = 0;
  while (n < limit && re.exec(text) !== null) n++;
  return n;
}

export function signalScore(signals: readonly Signal[], text: string): number {
  if (!text) return 0;
  let total = 0;
  for (const sig of signals) {
    total += Math.min(sig.cap, countMatches(sig.re, text, Math.ceil(sig.cap / sig.weight)) * sig.weight);
  }
  return total;
}

export function isGreeting(ask: string): boolean {
  return ask.length <= 80 && GREETING.test(ask);
}

const both = (signals: readonly Signal[], t: TaskText) =>
  signalScore(signals, t.ask) + CONTEXT_WEIGHT * signalScore(signals, t.context);

/** Raw cue scores per category, before normalising. */
export function categoryScores(t: TaskText, constraints: number): Record<Category, number> {
  return {
    general: GENERAL_BASE + (isGreeting(t.ask) ? GREETING_BONUS : 0) + both(GENERAL, t),
    code: both(CODE, t),
    math: both(MATH, t),
    reasoning: both(REASONING, t) + Math.min(CONSTRAINT_CAP, constraints * CONSTRAINT_WEIGHT),
    writing: both(WRITING, t),
  };
}

/**
 * Scores to weights summing to exactly 1, rounded to 1e-4 for a readable explanation record; the
 * rounding remainder goes to the top category.
 */
export function normalise(raw: Record<Category, number>): Record<Category, number> {
  let sum = 0;
  for (const c of CATEGORIES) sum += raw[c];
  const out = { general: 0, code: 0, math: 0, reasoning: 0, writing: 0 };
  let top: Category = 'general';
  let rest = 0;
  for (const c of CATEGORIES) {
    if (raw[c] > raw[top]) top = c;
  }
  for (const c of CATEGORIES) {
    if (c === top) continue;
    out[c] = Math.round((raw[c] / sum) * 1e4) / 1e4;
    rest += out[c];
  }
  out[top] = Math.round((1 - rest) * 1e4) / 1e4;
  return out;
}

/** Instructions rarely run past this; what follows is usually pasted material. */
const INSTRUCTION_CAP = 800;
/** A paragraph this long next to others is material to work on (an article, a log), not instructions. */
const MATERIAL_PARAGRAPH = 500;
const FENCED = /```[\s\S]*?(```|$)/g;
const PARAGRAPH = /\n\s*\n/;

/**
 * The part of the ask that states what to do: fenced code removed, long paragraphs removed when there
 * are others (pasted material), at most INSTRUCTION_CAP characters. Constraint, hardness and easiness
 * cues are counted here only, so the commas of a pasted article or the `every` in a code comment do
 * not read as requirements.
 */
export function instructionText(ask: string): string {
  let text = ask.includes('```') ? ask.replace(FENCED, ' ') : ask;
  if (text.length > MATERIAL_PARAGRAPH) {
    const paragraphs = text.split(PARAGRAPH);
    if (paragraphs.length > 1) {
      const short = paragraphs.filter((p) => p.length <= MATERIAL_PARAGRAPH);
      if (short.length > 0) text = short.join('\n\n');
    }
  }
  return text.length > INSTRUCTION_CAP ? text.slice(0, INSTRUCTION_CAP) : text;
}

/** Constraint words and list items, plus half a constraint per comma or semicolon (listed requirements). */
export function constraintCount(instruction: string): number {
  return countMatches(CONSTRAINT, instruction) + 0.5 * countMatches(CLAUSE, instruction);
}

export function categorize(t: TaskText): Record<Category, number> {
  const constraints = constraintCount(instructionText(t.ask));
  return normalise(categoryScores(t, constraints));
}

/** The category with the largest weight; ties go to the earlier one in CATEGORIES. */
export function topCategory(weights: Record<Category, number>): Category {
  let top: Category = 'general';
  for (const c of CATEGORIES) if (weights[c] > weights[top]) top = c;
  return top;
}
