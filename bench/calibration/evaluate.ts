/**
 * The calibration harness: runs every policy over labelled prompts and a model table, and measures
 * what the issue asks: the share of prompts whose chosen model meets the needed quality in the
 * prompt's (labelled) category, and the cost against the oracle and against always-largest; plus
 * confusion tables of the analyzer's category and difficulty against the labels. Pure: no I/O.
 */
import {
  analyzeTask,
  CATEGORIES,
  type Category,
  exclusionReason,
  type FilterLimits,
  type ModelSpec,
  type Policy,
  qualityBar,
  route,
  type TaskProfile,
  topCategory,
} from '../../routing/index.ts';
import { type CalibrationPrompt, DIFFICULTIES, type Difficulty, NEEDED } from './dataset.ts';

export type EvalPolicy = Policy | 'always-largest' | 'oracle';
export const EVAL_POLICIES: readonly EvalPolicy[] = [
  'cost',
  'balanced',
  'quality',
  'latency',
  'always-largest',
  'oracle',
];

export interface Miss {
  id: string;
  category: Category;
  difficulty: Difficulty;
  chosen: string | null;
  /** The chosen model's quality in the labelled category, and what was needed. */
  quality: number;
  needed: number;
}

export interface PolicyResult {
  policy: EvalPolicy;
  /** Share of prompts whose chosen model meets the need (0..1). */
  kept: number;
  /** Total cost in USD over the prompts (prompt tokens + assumed output tokens, list prices). */
  cost: number;
  costVsOracle: number;
  costVsLargest: number;
  /** Prompts per chosen model. */
  choices: Record<string, number>;
  misses: Miss[];
}

export interface Evaluation {
  prompts: number;
  policies: PolicyResult[];
  /** [labelled][detected] counts: the analyzer's top category. */
  category: Record<Category, Record<Category, number>>;
  /** [labelled][detected] counts: the band of the quality bar the analyzer's difficulty sets. */
  difficulty: Record<Difficulty, Record<Difficulty, number>>;
}

const NO_LIMITS: FilterLimits = { models: null, allowList: null, maxCostUsd: undefined };
const healthy = () => undefined;

/** What a prompt costs on a model: its prompt tokens and its assumed answer, at list price. */
export function promptCost(spec: ModelSpec, task: TaskProfile, outputTokens: number): number {
  return (task.promptTokens * spec.price.input + outputTokens * spec.price.output) / 1e6;
}

/**
 * The band a quality bar stands for: the need it is closest to (easy .55, medium .70, hard .86), cut
 * halfway between them.
 */
export function bandOf(bar: number): Difficulty {
  if (bar < (NEEDED.easy + NEEDED.medium) / 2) return 'easy';
  if (bar < (NEEDED.medium + NEEDED.hard) / 2) return 'medium';
  return 'hard';
}

/** The model always-largest sends everything to: the best mean quality, then the priciest. */
export function largestOf(models: readonly ModelSpec[]): ModelSpec[] {
  const mean = (m: ModelSpec) => CATEGORIES.reduce((s, c) => s + m.quality[c], 0) / CATEGORIES.length;
  return [...models].sort(
    (a, b) =>
      mean(b) - mean(a) ||
      b.price.input + b.price.output - (a.price.input + a.price.output) ||
      (a.id < b.id ? -1 : 1),
  );
}

interface Case {
  prompt: CalibrationPrompt;
  task: TaskProfile;
  needed: number;
  eligible: ModelSpec[];
}

function choose(
  policy: EvalPolicy,
  c: Case,
  models: readonly ModelSpec[],
  bySize: ModelSpec[],
): ModelSpec | null {
  const { prompt, task, needed, eligible } = c;
  if (policy === 'always-largest') return bySize.find((m) => eligible.includes(m)) ?? null;
  if (policy === 'oracle') {
    const cost = (m: ModelSpec) => promptCost(m, task, prompt.outputTokens);
    const meeting = eligible.filter((m) => m.quality[prompt.category] >= needed);
    const pool = meeting.length ? meeting : eligible;
    return (
      [...pool].sort((a, b) =>
        meeting.length
          ? cost(a) - cost(b)
          : b.quality[prompt.category] - a.quality[prompt.category] || cost(a) - cost(b),
      )[0] ?? null
    );
  }
  const chosen = route(models, task, healthy, { policy }).chosen;
  return models.find((m) => m.id === chosen) ?? null;
}

function matrix<K extends string>(keys: readonly K[]): Record<K, Record<K, number>> {
  const out = {} as Record<K, Record<K, number>>;
  for (const a of keys) {
    out[a] = {} as Record<K, number>;
    for (const b of keys) out[a][b] = 0;
  }
  return out;
}

/** Every policy over the prompts on the model table. */
export function evaluate(prompts: readonly CalibrationPrompt[], models: readonly ModelSpec[]): Evaluation {
  const bySize = largestOf(models);
  const category = matrix(CATEGORIES);
  const difficulty = matrix(DIFFICULTIES);
  const cases: Case[] = prompts.map((prompt) => {
    const task = analyzeTask(prompt.request);
    category[prompt.category][topCategory(task.categories)]++;
    difficulty[prompt.difficulty][bandOf(qualityBar(task.difficulty))]++;
    return {
      prompt,
      task,
      needed: NEEDED[prompt.difficulty],
      eligible: models.filter((m) => exclusionReason(m, task, NO_LIMITS, undefined) === undefined),
    };
  });
  const raw = EVAL_POLICIES.map((policy) => {
    let met = 0;
    let cost = 0;
    const choices: Record<string, number> = {};
    const misses: Miss[] = [];
    for (const c of cases) {
      const m = choose(policy, c, models, bySize);
      const quality = m ? m.quality[c.prompt.category] : 0;
      if (m) {
        cost += promptCost(m, c.task, c.prompt.outputTokens);
        choices[m.id] = (choices[m.id] ?? 0) + 1;
      }
      if (m && quality >= c.needed) met++;
      else
        misses.push({
          id: c.prompt.id,
          category: c.prompt.category,
          difficulty: c.prompt.difficulty,
          chosen: m?.id ?? null,
          quality,
          needed: c.needed,
        });
    }
    return { policy, kept: cases.length ? met / cases.length : 1, cost, choices, misses };
  });
  const costOf = (p: EvalPolicy) => raw.find((r) => r.policy === p)!.cost;
  const oracle = costOf('oracle');
  const largest = costOf('always-largest');
  return {
    prompts: prompts.length,
    policies: raw.map((r) => ({
      ...r,
      costVsOracle: oracle > 0 ? r.cost / oracle : 1,
      costVsLargest: largest > 0 ? r.cost / largest : 1,
    })),
    category,
    difficulty,
  };
}

export function policyResult(e: Evaluation, policy: EvalPolicy): PolicyResult {
  return e.policies.find((p) => p.policy === policy)!;
}
