/**
 * The router against the calibration set (bench/calibration/): the set is what it claims to be, the
 * harness measures what it says, `auto` meets its targets on the held-out part, and the report in
 * docs/routing.md is the one the code and data produce today.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ANALYZER_TABLE,
  type CalibrationPrompt,
  loadCalibrationSet,
  splitOf,
} from '../../../bench/calibration/dataset.ts';
import { bandOf, evaluate, policyResult } from '../../../bench/calibration/evaluate.ts';
import { CALIBRATION_MODELS } from '../../../bench/calibration/models.ts';
import {
  renderReport,
  reportIn,
  runCalibration,
  TARGETS,
  targetChecks,
} from '../../../bench/calibration/report.ts';
import { CATEGORIES, type ModelSpec } from '../../../routing/index.ts';

const set = loadCalibrationSet();
const held = set.filter((p) => p.split === 'held-out');
const calibration = runCalibration();

describe('the calibration set', () => {
  it('has at least 400 labelled prompts, about 25–30% held out by the fixed rule', () => {
    expect(set.length).toBeGreaterThanOrEqual(400);
    const share = held.length / set.length;
    expect(share).toBeGreaterThanOrEqual(0.25);
    expect(share).toBeLessThanOrEqual(0.3);
    for (const p of set) expect(p.split).toBe(splitOf(p.id, p.file));
    // The analyzer was tuned on its first table: none of it is held out.
    expect(set.filter((p) => p.file === ANALYZER_TABLE && p.split === 'held-out')).toEqual([]);
    expect(new Set(set.map((p) => p.id)).size).toBe(set.length);
  });

  it('spans the traffic it is meant to, in both parts', () => {
    for (const part of [set.filter((p) => p.split === 'tune'), held]) {
      const count = (pred: (p: CalibrationPrompt) => boolean) => part.filter(pred).length;
      for (const kind of [
        'chat',
        'support',
        'extraction',
        'code-review',
        'debugging',
        'algorithms',
        'proofs',
        'word-problems',
        'planning',
        'trade-offs',
      ] as const)
        expect(
          count((p) => p.kind === kind),
          kind,
        ).toBeGreaterThanOrEqual(3);
      expect(
        count((p) => p.document !== undefined),
        'long documents',
      ).toBeGreaterThanOrEqual(5);
      expect(
        count((p) => p.lang !== 'en'),
        'other languages',
      ).toBeGreaterThanOrEqual(5);
      expect(
        count((p) => p.multiTurn),
        'multi-turn',
      ).toBeGreaterThanOrEqual(5);
      for (const c of CATEGORIES)
        expect(
          count((p) => p.category === c),
          c,
        ).toBeGreaterThanOrEqual(10);
      for (const d of ['easy', 'medium', 'hard'] as const)
        expect(
          count((p) => p.difficulty === d),
          d,
        ).toBeGreaterThanOrEqual(25);
      for (const cap of ['tools', 'vision', 'json', 'streaming'] as const)
        expect(
          count((p) => p.requires.includes(cap)),
          cap,
        ).toBeGreaterThanOrEqual(1);
    }
  });

  it('turns requirements into the request bodies a client sends', () => {
    const vision = set.find((p) => p.requires.includes('vision'))!;
    expect(JSON.stringify(vision.request.messages)).toContain('image_url');
    expect(set.find((p) => p.requires.includes('tools'))!.request.tools?.length).toBeGreaterThan(0);
    expect(set.find((p) => p.requires.includes('json'))!.request.response_format).toEqual({
      type: 'json_object',
    });
    const doc = set.find((p) => p.document === 'server-log.md')!;
    expect(JSON.stringify(doc.request.messages)).toContain('remaining connection slots are reserved');
    expect(JSON.stringify(doc.request.messages)).not.toContain('{{document}}');
  });
});

describe('the harness', () => {
  // Two prompts a test can work out by hand: an easy general question and a hard proof.
  const easy = set.find((p) => p.id === 'v1-capital')!;
  const proof = set.find((p) => p.id === 'v1-integral-domain')!;
  const small = CALIBRATION_MODELS.find((m) => m.id === 'small')!;
  const coder = CALIBRATION_MODELS.find((m) => m.id === 'coder')!;

  it('keeps a prompt only when the chosen model meets its need in the labelled category', () => {
    // Only the code specialist and the small model: the proof (math, hard: needs .86) is kept by neither.
    const e = evaluate([easy, proof], [small, coder]);
    const oracle = policyResult(e, 'oracle');
    expect(oracle.choices).toEqual({ small: 1, coder: 1 });
    expect(oracle.kept).toBe(0.5);
    expect(oracle.misses.map((m) => [m.id, m.chosen, m.quality, m.needed])).toEqual([
      ['v1-integral-domain', 'coder', 0.82, 0.86],
    ]);
    // always-largest is the best mean quality: the coder, for both.
    expect(policyResult(e, 'always-largest').choices).toEqual({ coder: 2 });
    expect(policyResult(e, 'always-largest').costVsLargest).toBe(1);
    expect(policyResult(e, 'quality').costVsLargest).toBe(1);
  });

  it('counts a model the request cannot use as no choice', () => {
    const blind: ModelSpec = { ...small, id: 'blind', capabilities: ['json', 'streaming'] };
    const image = set.find((p) => p.requires.includes('vision') && p.difficulty === 'easy')!;
    const e = evaluate([image], [blind]);
    for (const policy of ['balanced', 'oracle', 'always-largest'] as const) {
      expect(policyResult(e, policy).kept).toBe(0);
      expect(policyResult(e, policy).misses[0]!.chosen).toBeNull();
    }
  });

  it('reads the band of a bar as the need it is nearest', () => {
    expect([0.45, 0.55, 0.62, 0.63, 0.7, 0.77, 0.78, 0.86, 1].map(bandOf)).toEqual([
      'easy',
      'easy',
      'easy',
      'medium',
      'medium',
      'medium',
      'hard',
      'hard',
      'hard',
    ]);
  });

  it('has a model that meets every prompt of the set, so the oracle keeps them all', () => {
    expect(policyResult(calibration.tune, 'oracle').kept).toBe(1);
    expect(policyResult(calibration.heldOut, 'oracle').kept).toBe(1);
  });
});

describe('auto on the held-out part', () => {
  it(`balanced keeps ≥ ${TARGETS.balancedKept * 100}% at ≤ ${TARGETS.balancedCostVsLargest * 100}% of always-largest; cost stays near the oracle`, () => {
    const balanced = policyResult(calibration.heldOut, 'balanced');
    const cost = policyResult(calibration.heldOut, 'cost');
    console.log(
      `held-out (${held.length}): balanced keeps ${(balanced.kept * 100).toFixed(1)}% at ${(balanced.costVsLargest * 100).toFixed(1)}% of always-largest; cost ${cost.costVsOracle.toFixed(2)}x the oracle (keeps ${(cost.kept * 100).toFixed(1)}%)`,
    );
    expect(targetChecks(calibration.heldOut).filter((t) => !t.met)).toEqual([]);
  });

  it('beats the router it replaced: more kept than cost, quality kept for less than always-largest', () => {
    const e = calibration.heldOut;
    expect(policyResult(e, 'balanced').kept).toBeGreaterThan(policyResult(e, 'cost').kept);
    expect(policyResult(e, 'quality').kept).toBe(1);
    expect(policyResult(e, 'cost').cost).toBeLessThan(policyResult(e, 'balanced').cost);
  });
});

describe('docs/routing.md', () => {
  it('holds the report the code and data produce (npm run calibrate rewrites it)', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/routing.md'), 'utf8');
    expect(reportIn(doc)).toBe(renderReport(calibration));
  });
});
