import { constraintCount, type TaskCues, taskCues } from './categorize.ts';
import { CLAUSE, CONJUNCTION, DEPTH, EASY, FUNCTION_WORD, HARD, NON_LATIN, WORD_COUNT } from './signals.ts';
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

/**
 * Weights of the parts (each in [0, 1]) in the difficulty score, fitted on the tune part of the
 * calibration set (bench/calibration/) by ordinal logistic regression over its easy / medium / hard
 * labels, then rounded: see docs/routing.md, "Calibration". Their scale is arbitrary; SCORE_AT_* below
 * place the score on [0, 1].
 */
export const DIFFICULTY_WEIGHTS = {
  length: 3.1,
  words: 2.1,
  parts: 2.7,
  constraints: 0.8,
  turns: 0.6,
  category: 2.3,
  hard: 5.3,
  depth: 2.8,
  foreign: 1.7,
  /** Subtracted. */
  easy: 1.9,
} as const;
/** Easy cues ("quick", "simple", "one-liner") that count at most. */
const EASY_MAX = 2;
/**
 * Where the fitted model puts the boundaries between the labels (easy | medium, medium | hard), on the
 * score's scale; they map to difficulty BAND_MEDIUM and BAND_HARD (score.ts reads those as the points
 * where the quality bar reaches a medium and a hard task's need).
 */
const SCORE_AT_MEDIUM = 3.85;
const SCORE_AT_HARD = 8.25;
export const BAND_MEDIUM = 0.25;
export const BAND_HARD = 0.6;
/** Below this share of function words, several words are not English (see FUNCTION_WORD). */
const ENGLISH_FUNCTION_SHARE = 0.1;
const ENGLISH_MIN_WORDS = 5;

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/**
 * Length on a log scale: 8 tokens (a short question) scores 0, 4,000 tokens (a long document or a big
 * file) scores 1. Context counts half, as in categorisation. Letters of non-Latin scripts are about a
 * token each, the rest about four characters a token.
 */
function lengthScore(t: TaskText, cues: TaskCues): number {
  const wide = cues.ask[NON_LATIN.id]! + 0.5 * cues.context[NON_LATIN.id]!;
  const tokens = (t.askChars + 0.5 * t.contextChars - wide) / 4 + wide;
  if (tokens <= 8) return 0;
  return clamp01(Math.log10(tokens / 8) / Math.log10(500));
}

/**
 * Text the word lists cannot read: mostly letters of a non-Latin script, or several Latin words with
 * hardly an English function word among them. Its cues are missing, so it must not read as trivial.
 */
function foreign(instruction: readonly number[]): number {
  const words = instruction[WORD_COUNT.id]!;
  const nonLatin = instruction[NON_LATIN.id]!;
  if (nonLatin > 0 && nonLatin >= 4 * words) return 1;
  return words >= ENGLISH_MIN_WORDS && instruction[FUNCTION_WORD.id]! < ENGLISH_FUNCTION_SHARE * words
    ? 1
    : 0;
}

export interface DifficultyParts {
  length: number;
  /** The instructions' length in words, on a log scale (1 word 0.14, 10 words 0.49, 127 words 1). */
  words: number;
  /** Parts of the ask: commas, semicolons and conjunctions (6 saturate). */
  parts: number;
  constraints: number;
  turns: number;
  category: number;
  hard: number;
  depth: number;
  foreign: number;
  /** Easy cues (2 saturate); they lower the score. */
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
    length: lengthScore(t, cues),
    words: clamp01(Math.log2(1 + instruction[WORD_COUNT.id]!) / 7),
    parts: clamp01((instruction[CLAUSE.id]! + instruction[CONJUNCTION.id]!) / 6),
    constraints: clamp01(constraintCount(instruction) / 6),
    turns: clamp01((t.userTurns - 1) / 6),
    category,
    hard: clamp01(instruction[HARD.id]! / 3),
    depth: clamp01(instruction[DEPTH.id]! / 3),
    foreign: foreign(instruction),
    easy: Math.min(EASY_MAX, instruction[EASY.id]!) / EASY_MAX,
  };
}

/** The weighted score of the parts (DIFFICULTY_WEIGHTS), before it is placed on [0, 1]. */
export function difficultyScore(p: DifficultyParts): number {
  const w = DIFFICULTY_WEIGHTS;
  return (
    w.length * p.length +
    w.words * p.words +
    w.parts * p.parts +
    w.constraints * p.constraints +
    w.turns * p.turns +
    w.category * p.category +
    w.hard * p.hard +
    w.depth * p.depth +
    w.foreign * p.foreign -
    w.easy * p.easy
  );
}

/**
 * The score placed on [0, 1]: 0 with no signal at all, BAND_MEDIUM and BAND_HARD at the fitted
 * boundaries between easy, medium and hard, linear in between and with the same slope beyond.
 */
export function placeScore(score: number): number {
  if (score <= SCORE_AT_MEDIUM) return (BAND_MEDIUM * score) / SCORE_AT_MEDIUM;
  return (
    BAND_MEDIUM + ((score - SCORE_AT_MEDIUM) * (BAND_HARD - BAND_MEDIUM)) / (SCORE_AT_HARD - SCORE_AT_MEDIUM)
  );
}

/** Difficulty in [0, 1], rounded to 1e-3. */
export function difficulty(
  t: TaskText,
  categories: Record<Category, number>,
  cues: TaskCues = taskCues(t),
): number {
  // A greeting or thanks is trivial, however long the system prompt around it.
  if (cues.greeting) return 0;
  return Math.round(clamp01(placeScore(difficultyScore(difficultyParts(t, categories, cues)))) * 1000) / 1000;
}
