/**
 * Self-consistency voting. Candidates (distinct models, or one model repeated = n samples) answer in
 * parallel; answers are grouped by normalised key; the largest group wins and its first member's full
 * text is the reply. Equal-sized groups go to the one whose first member comes first in the candidate
 * list — deterministic, free, and it lets the list order express preference.
 *
 * When free-form answers (text or code) have no majority — the largest group holds half or fewer — exact
 * grouping says little, so a `judge`, if given, picks the response most consistent with the others
 * (Universal Self-Consistency) and the record carries `judge`. If the judge fails, the vote stands and
 * `judge.rationale` says so.
 */
import { label, tokenFor } from './fence.ts';
import type { Answer } from './gather.ts';
import { agreementOf, groupAnswers, groupsRecord } from './group.ts';
import { callJudge } from './judge.ts';
import { DEFAULT_SEED, mulberry32, shuffle } from './prng.ts';
import { gatherSamples } from './samples.ts';
import type { AggregationResult, Complete, CompletionRequest, FanOutOptions } from './types.ts';
import { uscRequest } from './usc.ts';

export async function consensus(
  request: CompletionRequest,
  options: FanOutOptions,
  complete: Complete,
  signal: AbortSignal,
): Promise<AggregationResult> {
  const { records, answers } = await gatherSamples(request, options, complete, signal);
  const groups = groupAnswers(answers);
  const top = groups[0]!;
  const calls = answers.map((a) => a.completion);
  let selected = top.members[0]!;
  let judge: AggregationResult['judge'];
  let judgeFailed = false;

  const freeForm = top.kind === 'text' || top.kind === 'code';
  const majority = top.members.length * 2 > answers.length;
  if (options.judge && freeForm && !majority && answers.length >= 2) {
    const usc = await mostConsistent(
      request,
      answers,
      options.judge,
      options.seed ?? DEFAULT_SEED,
      complete,
      signal,
    );
    if (usc.completion) calls.push(usc.completion);
    if (usc.index !== undefined) selected = usc.index;
    else judgeFailed = true;
    judge = {
      model: usc.completion?.model ?? options.judge,
      rationale:
        usc.index !== undefined
          ? usc.rationale
          : `judge failed (${usc.error}); kept the largest group's first answer`,
    };
  }

  const completion = answers.find((a) => a.index === selected)!.completion;
  return {
    strategy: 'consensus',
    content: completion.content,
    model: completion.model,
    candidates: records,
    agreement: agreementOf(groups, selected, answers.length),
    groups: groupsRecord(groups),
    selected: { index: selected, model: completion.model },
    ...(judge ? { judge } : {}),
    ...(judgeFailed ? { degraded: ['judge_failed' as const] } : {}),
    calls,
  };
}

/** One USC call over the answers in a seeded order; returns the picked candidate index. */
async function mostConsistent(
  request: CompletionRequest,
  answers: readonly Answer[],
  model: string,
  seed: number,
  complete: Complete,
  signal: AbortSignal,
) {
  const order = shuffle(answers, mulberry32(seed));
  const texts = order.map((a) => a.completion.content);
  const labels = order.map((_, i) => label(i));
  const call = await callJudge(
    complete,
    model,
    uscRequest(request, texts, tokenFor(seed, texts)),
    labels,
    signal,
  );
  const best = call.verdict?.best ?? bestScored(call.verdict?.scores);
  const index = best === undefined ? undefined : order[labels.indexOf(best)]?.index;
  return {
    completion: call.completion,
    index,
    rationale: call.verdict?.rationale ?? '',
    error: call.error ?? 'no pick in the verdict',
  };
}

function bestScored(scores: Record<string, number> | undefined): string | undefined {
  const entries = Object.entries(scores ?? {});
  return entries.length ? entries.reduce((a, b) => (b[1] > a[1] ? b : a))[0] : undefined;
}
