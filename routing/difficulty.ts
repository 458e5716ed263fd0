import { constraintCount, type TaskCues, taskCues } from './categorize.ts';
import { EASY, HARD } from './signals.ts';
import type { TaskText } from './task-text.ts';
import type { Category } from './types.ts';

/**
 * How hard a category is on its own: chit-chat and lookups are easy, writing needs craft, code, math and
 * reasoning fail in more ways. Mixed with the other signals below.
 */
const CATEGORY_HARDNESS: Record<Category, number> = {
  general: 0,
  writing: 0.35,
  code: 0.8,
  math: 0.8,
  reasoning: 0.75,
};

/** Signal weights; they sum to 1. */
const W_LENGTH = 0.25;
const W_CONSTRAINTS = 0.2;
const W_TURNS = 0.05;
const W_CATEGORY = 0.25;
const W_HARD = 0.25;
/** What one easy cue ("quick", "simple", "one-liner") takes off, and at most how many count. */
const EASY_STEP = 0.06;
const EASY_MAX = 2;
/**
 * The weighted mix rarely passes 0.7 (every signal saturated at once does not happen in practice: the
 * hardest prompts in the labelled table mix to about 0.6), so it is stretched by 1/0.7 to use the whole
 * [0, 1] range the quality bar is defined over.
 */
const STRETCH = 1 / 0.7;
/** A greeting is at most this hard, however long the system prompt around it. */
const GREETING_CEILING = 0.05;

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/**
 * Length on a log scale: 8 tokens (a short question) scores 0, 4,000 tokens (a long document or a big
 * file) scores 1. Context counts half, as in categorisation.
 */
function lengthScore(t: TaskText): number {
  const tokens = (t.askChars + 0.5 * t.contextChars) / 4;
  if (tokens <= 8) return 0;
  return clamp01(Math.log10(tokens / 8) / Math.log10(500));
}

export interface DifficultyParts {
  length: number;
  constraints: number;
  turns: number;
  category: number;
  hard: number;
  easy: number;
}

export function difficultyParts(
  t: TaskText,
  categories: Record<Category, number>,
  cues: TaskCues = taskCues(t),
): DifficultyParts {
  let category = 0;
  for (const c of Object.keys(CATEGORY_HARDNESS) as Category[])
    category += categories[c] * CATEGORY_HARDNESS[c];
  const instruction = cues.instruction;
  return {
    length: lengthScore(t),
    constraints: clamp01(constraintCount(instruction) / 6),
    turns: clamp01((t.userTurns - 1) / 6),
    category,
    hard: clamp01(instruction[HARD.id]! / 3),
    easy: Math.min(EASY_MAX, instruction[EASY.id]!) * EASY_STEP,
  };
}

/** Difficulty in [0, 1], rounded to 1e-3. */
export function difficulty(
  t: TaskText,
  categories: Record<Category, number>,
  cues: TaskCues = taskCues(t),
): number {
  const p = difficultyParts(t, categories, cues);
  let d =
    W_LENGTH * p.length +
    W_CONSTRAINTS * p.constraints +
    W_TURNS * p.turns +
    W_CATEGORY * p.category +
    W_HARD * p.hard -
    p.easy;
  d *= STRETCH;
  if (cues.greeting) d = Math.min(d, GREETING_CEILING);
  return Math.round(clamp01(d) * 1000) / 1000;
}
