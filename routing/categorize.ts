import { scan } from './scan.ts';
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
import { TextMemo } from './text-memo.ts';
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

/**
 * Signal counts for the three texts analysis reads (see scan.ts): the ask and the context for the
 * categories, the instruction part of the ask for constraints and difficulty cues. Each text is scanned
 * once; analyzeTask() hands the result to both categorize() and difficulty().
 */
export interface TaskCues {
  ask: readonly number[];
  context: readonly number[];
  instruction: readonly number[];
  greeting: boolean;
}

/** Full scans of long texts, remembered: a system prompt or a conversation's history comes back often. */
const scans = new TextMemo((text) => scan(text));

export function taskCues(t: TaskText): TaskCues {
  const ask = scans.get(t.ask);
  const instruction = instructionText(t.ask);
  return {
    ask,
    context: scans.get(t.context),
    instruction: instruction === t.ask ? ask : scan(instruction, false),
    greeting: isGreeting(t.ask),
  };
}

/** Weighted, capped sum of `signals` in a scan's counts. */
export function signalScore(signals: readonly Signal[], counts: readonly number[]): number {
  let total = 0;
  for (const sig of signals) total += Math.min(sig.cap, counts[sig.id]! * sig.weight);
  return total;
}

export function isGreeting(ask: string): boolean {
  return ask.length <= 80 && GREETING.test(ask);
}

const both = (signals: readonly Signal[], c: TaskCues) =>
  signalScore(signals, c.ask) + CONTEXT_WEIGHT * signalScore(signals, c.context);

/** Raw cue scores per category, before normalising. */
export function categoryScores(c: TaskCues): Record<Category, number> {
  const constraints = constraintCount(c.instruction);
  return {
    general: GENERAL_BASE + (c.greeting ? GREETING_BONUS : 0) + both(GENERAL, c),
    code: both(CODE, c),
    math: both(MATH, c),
    reasoning: both(REASONING, c) + Math.min(CONSTRAINT_CAP, constraints * CONSTRAINT_WEIGHT),
    writing: both(WRITING, c),
  };
}

/**
 * Cue scores are raised to this power before they are normalised: the weights are a belief about what
 * the task is, and a code task with a few general words is a code task, not a 60/40 mix. Fitted on the
 * tune part of the calibration set (docs/routing.md, "Calibration"); 1 would be a plain share.
 */
export const CATEGORY_SHARPNESS = 2;

/**
 * Scores to weights summing to exactly 1 (each score squared first: CATEGORY_SHARPNESS), rounded to
 * 1e-4 for a readable explanation record; the rounding remainder goes to the top category.
 */
export function normalise(scores: Record<Category, number>): Record<Category, number> {
  const raw = {
    general: scores.general * scores.general,
    code: scores.code * scores.code,
    math: scores.math * scores.math,
    reasoning: scores.reasoning * scores.reasoning,
    writing: scores.writing * scores.writing,
  };
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
/**
 * A message this long with several paragraphs is instructions around material (a transcript, a paper,
 * a contract of short clauses): the instructions are its first and last paragraphs.
 */
const LONG_ASK = 1_500;
const FENCED = /```[\s\S]*?(```|$)/g;
const PARAGRAPH = /\n\s*\n/;

/**
 * The part of the ask that states what to do: fenced code removed, long paragraphs removed when there
 * are others (pasted material), only the first and last paragraphs of a long message, at most
 * INSTRUCTION_CAP characters. Constraint, hardness, depth and easiness cues are counted here only, so
 * the commas of a pasted article or the `every` in a code comment do not read as requirements.
 */
export function instructionText(ask: string): string {
  let text = ask.includes('```') ? ask.replace(FENCED, ' ') : ask;
  if (text.length > MATERIAL_PARAGRAPH) {
    const paragraphs = text.split(PARAGRAPH);
    if (paragraphs.length > 1) {
      const around = text.length > LONG_ASK && paragraphs.length > 2;
      const kept = (around ? [paragraphs[0]!, paragraphs.at(-1)!] : paragraphs).filter(
        (p) => p.length <= MATERIAL_PARAGRAPH,
      );
      if (kept.length > 0) text = kept.join('\n\n');
      else if (around) {
        const short = paragraphs.filter((p) => p.length <= MATERIAL_PARAGRAPH);
        if (short.length > 0) text = short.join('\n\n');
      }
    }
  }
  return text.length > INSTRUCTION_CAP ? text.slice(0, INSTRUCTION_CAP) : text;
}

/** Constraint words and list items, plus half a constraint per comma or semicolon (listed requirements). */
export function constraintCount(instruction: readonly number[]): number {
  return instruction[CONSTRAINT.id]! + CLAUSE.weight * instruction[CLAUSE.id]!;
}

/** Category weights; pass `cues` when difficulty() will read the same text, so it is scanned once. */
export function categorize(t: TaskText, cues: TaskCues = taskCues(t)): Record<Category, number> {
  return normalise(categoryScores(cues));
}

/** The category with the largest weight; ties go to the earlier one in CATEGORIES. */
export function topCategory(weights: Record<Category, number>): Category {
  let top: Category = 'general';
  for (const c of CATEGORIES) if (weights[c] > weights[top]) top = c;
  return top;
}
