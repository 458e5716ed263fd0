/**
 * Fits the difficulty weights (routing/difficulty.ts) on labelled prompts: an ordinal logistic
 * regression of the easy / medium / hard labels on the analyzer's difficulty parts. It fits a score
 * w·parts and two boundaries, P(label ≥ medium) = σ(score − b₁), P(label = hard) = σ(score − b₂), by
 * gradient descent on the mean negative log-likelihood with a little L2. `npm run calibrate -- --fit`
 * runs it on the tune part only and prints what difficulty.ts should hold. Pure: no I/O.
 */
import { categorize, taskCues } from '../../routing/categorize.ts';
import { type DifficultyParts, difficultyParts } from '../../routing/difficulty.ts';
import { taskText } from '../../routing/task-text.ts';
import type { CalibrationPrompt, Difficulty } from './dataset.ts';

/** The parts the fit weighs; `easy` is fitted too and enters the score with a minus sign. */
export const FITTED_PARTS = [
  'length',
  'words',
  'parts',
  'constraints',
  'turns',
  'category',
  'hard',
  'depth',
  'foreign',
  'easy',
] as const satisfies readonly (keyof DifficultyParts)[];

export interface DifficultyFit {
  weights: Record<(typeof FITTED_PARTS)[number], number>;
  /** Score boundaries easy | medium and medium | hard. */
  atMedium: number;
  atHard: number;
  /** [labelled][predicted] on the prompts fitted. */
  confusion: number[][];
}

const LEVEL: Record<Difficulty, number> = { easy: 0, medium: 1, hard: 2 };
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function partsOf(p: CalibrationPrompt): DifficultyParts {
  const text = taskText(p.request.messages);
  const cues = taskCues(text);
  return difficultyParts(text, categorize(text, cues), cues);
}

export function fitDifficulty(prompts: readonly CalibrationPrompt[], iterations = 20_000): DifficultyFit {
  const X = prompts.map((p) => {
    const parts = partsOf(p);
    return FITTED_PARTS.map((k) => (k === 'easy' ? -parts[k] : parts[k]));
  });
  const Y = prompts.map((p) => LEVEL[p.difficulty]);
  const n = X.length;
  const w = FITTED_PARTS.map(() => 0);
  let b1 = 0;
  let b2 = 1;
  const rate = 0.5;
  const l2 = 0.001;
  for (let it = 0; it < iterations; it++) {
    const gw = w.map(() => 0);
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const x = X[i]!;
      let z = 0;
      for (let k = 0; k < w.length; k++) z += w[k]! * x[k]!;
      const p1 = sigmoid(z - b1);
      const p2 = sigmoid(z - b2);
      let dz: number;
      if (Y[i] === 0) {
        dz = p1;
        g1 -= p1;
      } else if (Y[i] === 2) {
        dz = -(1 - p2);
        g2 += 1 - p2;
      } else {
        const den = Math.max(1e-9, p1 - p2);
        const a = p1 * (1 - p1);
        const b = p2 * (1 - p2);
        dz = -(a - b) / den;
        g1 += a / den;
        g2 -= b / den;
      }
      for (let k = 0; k < w.length; k++) gw[k]! += dz * x[k]!;
    }
    for (let k = 0; k < w.length; k++) w[k] = w[k]! - rate * (gw[k]! / n + l2 * w[k]!);
    b1 -= (rate * g1) / n;
    b2 -= (rate * g2) / n;
  }
  const confusion = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let k = 0; k < w.length; k++) z += w[k]! * X[i]![k]!;
    confusion[Y[i]!]![z < b1 ? 0 : z < b2 ? 1 : 2]!++;
  }
  const weights = {} as DifficultyFit['weights'];
  FITTED_PARTS.forEach((k, i) => {
    weights[k] = w[i]!;
  });
  return { weights, atMedium: b1, atHard: b2, confusion };
}
