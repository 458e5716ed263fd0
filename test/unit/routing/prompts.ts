/**
 * The analyzer's first labelled table (97 prompts: 77 it was tuned on, 20 held out when it was
 * written), now part of the calibration set in bench/calibration/prompts/analyzer-table.yaml. Expected
 * top category and a difficulty band, judged by a person, not fitted to the heuristics: `low` =
 * trivial (greetings, lookups, one-step asks), `high` = multi-step, constrained or expert work,
 * `medium` = the rest (the calibration set calls them easy, medium, hard).
 */
import { loadCalibrationSet } from '../../../bench/calibration/dataset.ts';
import type { RouteMessage } from '../../../routing/request.ts';
import type { Category } from '../../../routing/types.ts';

export type Band = 'low' | 'medium' | 'high';

export interface LabelledPrompt {
  name: string;
  /** A single user message, or a whole conversation. */
  prompt: string | RouteMessage[];
  category: Category;
  band: Band;
}

const BAND = { easy: 'low', medium: 'medium', hard: 'high' } as const;

const table = loadCalibrationSet().filter((p) => p.file === 'analyzer-table.yaml');

function toLabelled(p: (typeof table)[number]): LabelledPrompt {
  const messages = p.request.messages as RouteMessage[];
  const single = messages.length === 1 && typeof messages[0]!.content === 'string';
  return {
    name: p.id.replace(/^v1-/, ''),
    prompt: single ? (messages[0]!.content as string) : messages,
    category: p.category,
    band: BAND[p.difficulty],
  };
}

/** The 77 prompts the analyzer was first tuned on. */
export const PROMPTS: readonly LabelledPrompt[] = table.filter((p) => p.v1Split === 'tune').map(toLabelled);

/**
 * Written after the heuristics were tuned on PROMPTS, as an honest accuracy estimate (the test reports
 * it separately). First score: 17/20. Two vocabulary gaps it exposed were then filled (git words;
 * "squared/times/plus" as weak math cues); the table itself was not changed.
 */
export const HELD_OUT: readonly LabelledPrompt[] = table
  .filter((p) => p.v1Split === 'held-out')
  .map(toLabelled);
