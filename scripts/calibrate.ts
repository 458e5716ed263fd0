/**
 * `npm run calibrate`: measures the router on the calibration set (bench/calibration/) and writes the
 * report section of docs/routing.md.
 *
 *   npm run calibrate                 # write the report into docs/routing.md
 *   npm run calibrate -- --check      # exit 1 if the committed report is stale or a target is missed
 *   npm run calibrate -- --misses [policy]   # tune part only: every prompt the policy (balanced)
 *                                            # under-serves, with the analyzer's reading
 *   npm run calibrate -- --fit        # fit the difficulty weights on the tune part (bench/calibration/fit.ts)
 *
 * Neither --misses nor --fit ever reads the held-out part.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { policyResult } from '../bench/calibration/evaluate.ts';
import { FITTED_PARTS, fitDifficulty } from '../bench/calibration/fit.ts';
import {
  renderReport,
  reportIn,
  runCalibration,
  targetChecks,
  withReport,
} from '../bench/calibration/report.ts';
import { analyzeTask, topCategory } from '../routing/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DOC = join(ROOT, 'docs/routing.md');
const args = process.argv.slice(2);

const calibration = runCalibration();
const report = renderReport(calibration);

if (args.includes('--fit')) {
  const fit = fitDifficulty(calibration.set.filter((p) => p.split === 'tune'));
  const right = fit.confusion.reduce((s, row, i) => s + row[i]!, 0);
  const all = fit.confusion.flat().reduce((a, b) => a + b, 0);
  process.stdout.write(
    `difficulty fit on the tune part (${all} prompts): ${((right / all) * 100).toFixed(1)}% of labels right\n` +
      `  weights: ${FITTED_PARTS.map((k) => `${k} ${fit.weights[k].toFixed(2)}`).join(', ')}\n` +
      `  boundaries: easy | medium ${fit.atMedium.toFixed(2)}, medium | hard ${fit.atHard.toFixed(2)}\n` +
      `  confusion [labelled][predicted]: ${JSON.stringify(fit.confusion)}\n`,
  );
  process.exit(0);
}

if (args.includes('--misses')) {
  const policy = (args[args.indexOf('--misses') + 1] ?? 'balanced').replace(/^--.*/, 'balanced');
  const byId = new Map(calibration.set.map((p) => [p.id, p]));
  const misses = policyResult(calibration.tune, policy as 'balanced').misses;
  process.stdout.write(`${policy}: ${misses.length} misses on the tune part\n`);
  for (const m of misses) {
    const t = analyzeTask(byId.get(m.id)!.request);
    const cats = Object.entries(t.categories)
      .filter(([, w]) => w >= 0.05)
      .map(([c, w]) => `${c} ${w.toFixed(2)}`)
      .join(', ');
    process.stdout.write(
      `  ${m.id}: ${m.category}/${m.difficulty} → ${m.chosen} (${m.quality} < ${m.needed}); read ${topCategory(t.categories)} d=${t.difficulty} [${cats}]\n`,
    );
  }
  process.exit(0);
}

const checks = targetChecks(calibration.heldOut);
for (const t of checks)
  process.stdout.write(`${t.met ? 'met   ' : 'MISSED'} ${t.name} ${t.limit}: ${t.actual.toFixed(4)}\n`);

if (args.includes('--check')) {
  const current = reportIn(readFileSync(DOC, 'utf8'));
  const stale = current !== report;
  if (stale)
    process.stdout.write('docs/routing.md: the calibration report is stale; run npm run calibrate\n');
  process.exit(stale || checks.some((t) => !t.met) ? 1 : 0);
}

writeFileSync(DOC, withReport(readFileSync(DOC, 'utf8'), report));
process.stdout.write('docs/routing.md: calibration report written\n');
