/**
 * Best-of-n with an LLM judge. Candidates answer in parallel; the judge scores each 0–10 against a
 * rubric. Known judge biases are countered structurally: candidates are anonymous (labels, no model
 * names), fenced and escaped (text inside is data), shuffled with the seed, and by default judged twice
 * — in the shuffled order and reversed — with scores averaged per candidate, so a judge that favours a
 * position favours every candidate equally. Ranking: mean score, then lower cost, then candidate order.
 */
import { label, tokenFor } from './fence.ts';
import type { Answer } from './gather.ts';
import { agreementOf, groupAnswers, groupsRecord } from './group.ts';
import { callJudge, DEFAULT_RUBRIC, type JudgeCall, judgeRequest } from './judge.ts';
import { DEFAULT_SEED, mulberry32, shuffle } from './prng.ts';
import { gatherSamples } from './samples.ts';
import type { AggregationResult, Complete, Completion, CompletionRequest, FanOutOptions } from './types.ts';

export async function bestOfN(
  request: CompletionRequest,
  options: FanOutOptions,
  complete: Complete,
  signal: AbortSignal,
): Promise<AggregationResult> {
  const judgeModel = options.judge;
  if (!judgeModel) throw new TypeError('best_of_n needs a judge model');
  const { records, answers } = await gatherSamples(request, options, complete, signal);
  const calls: Completion[] = answers.map((a) => a.completion);
  const groups = groupAnswers(answers);

  let tally = new Map<number, Tally>();
  let judge: AggregationResult['judge'];
  let judgeFailed = false;
  if (answers.length > 1) {
    const seed = options.seed ?? DEFAULT_SEED;
    const order = shuffle(answers, mulberry32(seed));
    const passes = options.bothOrders === false ? [order] : [order, order.slice().reverse()];
    const results = await Promise.all(
      passes.map((pass, p) =>
        judgePass(request, pass, p, seed, options.rubric, judgeModel, complete, signal),
      ),
    );
    for (const r of results) if (r.call.completion) calls.push(r.call.completion);
    tally = combine(results);
    const ok = results.filter((r) => r.call.verdict);
    judge = { model: ok[0]?.call.completion?.model ?? judgeModel, rationale: '' };
    if (!ok.length) {
      judgeFailed = true;
      judge.rationale = `judge failed (${results.map((r) => r.call.error).join('; ')}); kept the first answer`;
    }
  }

  const selected = rank(answers, tally)[0]!;
  if (judge && !judge.rationale) judge.rationale = rationaleFor(selected.index, tally);
  for (const [index, t] of tally) {
    if (t.passes) records[index]!.score = Math.round((t.sum / t.passes) * 100) / 100;
  }
  return {
    strategy: 'best_of_n',
    content: selected.completion.content,
    model: selected.completion.model,
    candidates: records,
    agreement: agreementOf(groups, selected.index, answers.length),
    groups: groupsRecord(groups),
    selected: { index: selected.index, model: selected.completion.model },
    ...(judge ? { judge } : {}),
    ...(judgeFailed ? { degraded: ['judge_failed' as const] } : {}),
    calls,
  };
}

interface Tally {
  sum: number;
  passes: number;
  rationales: string[];
}

interface PassResult {
  /** Candidate index for each label. */
  byLabel: Map<string, number>;
  call: JudgeCall;
}

async function judgePass(
  request: CompletionRequest,
  order: readonly Answer[],
  pass: number,
  seed: number,
  rubric: string | undefined,
  model: string,
  complete: Complete,
  signal: AbortSignal,
): Promise<PassResult> {
  const texts = order.map((a) => a.completion.content);
  const labels = order.map((_, i) => label(i));
  const judged = judgeRequest(request, texts, {
    token: tokenFor(seed, texts, pass),
    rubric: rubric ?? DEFAULT_RUBRIC,
  });
  const call = await callJudge(complete, model, judged, labels, signal);
  return { byLabel: new Map(labels.map((l, i) => [l, order[i]!.index])), call };
}

/**
 * Per-candidate sums over passes. A verdict that only names a best (no scores) counts as 10 for it and
 * 0 for the others in that pass.
 */
function combine(results: readonly PassResult[]): Map<number, Tally> {
  const tally = new Map<number, Tally>();
  const at = (i: number) => {
    let t = tally.get(i);
    if (!t) {
      t = { sum: 0, passes: 0, rationales: [] };
      tally.set(i, t);
    }
    return t;
  };
  for (const { byLabel, call } of results) {
    const v = call.verdict;
    if (!v) continue;
    const scored = Object.keys(v.scores).length > 0;
    for (const [lab, index] of byLabel) {
      const score = scored ? v.scores[lab] : lab === v.best ? 10 : 0;
      if (score !== undefined) {
        at(index).sum += score;
        at(index).passes++;
      }
    }
    if (v.best !== undefined) {
      if (v.rationale) at(byLabel.get(v.best)!).rationales.push(v.rationale);
    }
  }
  return tally;
}

/**
 * Mean score, then cheaper, then earlier. Unscored candidates rank below scored ones. The judges' "best"
 * picks do not break ties: with equal scores a pick mostly reflects position.
 */
function rank(answers: readonly Answer[], tally: Map<number, Tally>): Answer[] {
  const mean = (a: Answer) => {
    const t = tally.get(a.index);
    return t?.passes ? t.sum / t.passes : -1;
  };
  return answers
    .slice()
    .sort((a, b) => mean(b) - mean(a) || a.completion.cost_usd - b.completion.cost_usd || a.index - b.index);
}

function rationaleFor(index: number, tally: Map<number, Tally>): string {
  const own = tally.get(index)?.rationales ?? [];
  if (own.length) return [...new Set(own)].join(' / ');
  return [...tally.values()].flatMap((t) => t.rationales)[0] ?? '';
}
