/**
 * Fusion: candidates answer; a judge (the analyst) compares them in a structured analysis — points of
 * agreement, contradictions with who holds each position, partial coverage, unique insights, gaps —
 * and a synthesizer (the judge unless one is named) writes the final answer from the candidates and
 * that analysis. The analysis goes in the record, by candidate index.
 *
 * The gateway streams the synthesizer itself: `fusionStages` runs the candidates and the analysis
 * (`prepareFusion`) and gives the synthesizer's request (`fusionSynthesis`), which the gateway streams,
 * then the record (`fusionResult`). `fusion` does both for non-streaming callers. Degrading: an analysis that fails or cannot be read leaves the synthesizer to work from the
 * candidates alone (`judge_failed`); a synthesizer that fails leaves the candidates' vote
 * (`aggregator_failed`), as an ensemble's aggregator does.
 */
import { type LabelledAnalysis, parseAnalysis } from './analysis-parse.ts';
import { label, tokenFor } from './fence.ts';
import { analysisRequest, synthesisRequest } from './fusion-prompts.ts';
import { type Answer, errorMessage } from './gather.ts';
import { agreementOf, groupAnswers, groupsRecord } from './group.ts';
import { normalizeAnswer } from './normalize.ts';
import { DEFAULT_SEED, mulberry32, shuffle } from './prng.ts';
import { gatherSamples } from './samples.ts';
import { runStaged, type Staged } from './staged.ts';
import type {
  AggregationResult,
  CandidateRecord,
  Complete,
  Completion,
  CompletionRequest,
  Degradation,
  FanOutOptions,
  FusionAnalysis,
} from './types.ts';

/** Everything before the final answer: the candidates, what the analyst was shown, its analysis. */
export interface FusionDraft {
  records: CandidateRecord[];
  answers: Answer[];
  /** The answers in the order the analyst saw them; `labels[i]` names `order[i]`. */
  order: Answer[];
  labels: string[];
  /** The analysis as the analyst wrote it (labels), absent when it failed. */
  labelled?: LabelledAnalysis;
  /** The same by candidate index, for the record. */
  analysis?: FusionAnalysis;
  judge: { model: string; rationale: string };
  degraded: Degradation[];
  seed: number;
  /** The candidates' calls and the analyst's. */
  calls: Completion[];
}

export async function prepareFusion(
  request: CompletionRequest,
  options: FanOutOptions,
  complete: Complete,
  signal: AbortSignal,
): Promise<FusionDraft> {
  const judge = options.judge;
  if (!judge) throw new TypeError('fusion needs a judge model (the analyst)');
  const { records, answers } = await gatherSamples(request, options, complete, signal);
  const calls = answers.map((a) => a.completion);
  const seed = options.seed ?? DEFAULT_SEED;
  const order = shuffle(answers, mulberry32(seed));
  const labels = order.map((_, i) => label(i));
  const texts = order.map((a) => a.completion.content);
  const draft: FusionDraft = {
    records,
    answers,
    order,
    labels,
    judge: { model: judge, rationale: '' },
    degraded: [],
    seed,
    calls,
  };
  let reply: Completion;
  try {
    reply = await complete(judge, analysisRequest(request, texts, labels, tokenFor(seed, texts)), signal);
  } catch (error) {
    return withoutAnalysis(draft, errorMessage(error));
  }
  calls.push(reply);
  draft.judge.model = reply.model;
  const labelled = parseAnalysis(reply.content, labels);
  if (!labelled) return withoutAnalysis(draft, 'unreadable analysis');
  draft.labelled = labelled;
  draft.analysis = byIndex(labelled, labels, order);
  draft.judge.rationale = summary(draft.analysis);
  return draft;
}

function withoutAnalysis(draft: FusionDraft, error: string): FusionDraft {
  draft.degraded.push('judge_failed');
  draft.judge.rationale = `analysis failed (${error}); the answer was written from the candidates alone`;
  return draft;
}

/** The synthesizer's request: the candidates in the reverse of the analyst's order, and the analysis. */
export function fusionSynthesis(request: CompletionRequest, draft: FusionDraft): CompletionRequest {
  const shown = draft.order
    .map((a, i) => ({ label: draft.labels[i]!, text: a.completion.content }))
    .reverse();
  const rendered = draft.labelled ? renderAnalysis(draft.labelled) : undefined;
  const token = tokenFor(draft.seed, [...shown.map((s) => s.text), rendered ?? ''], 1);
  return synthesisRequest(request, shown, rendered, token);
}

/** The record once the synthesizer has answered: it is appended to `candidates` and `selected`. */
export function fusionResult(draft: FusionDraft, writer: Completion): AggregationResult {
  const index = draft.records.length;
  return {
    strategy: 'fusion',
    content: writer.content,
    model: writer.model,
    candidates: [
      ...draft.records,
      {
        model: writer.model,
        content: writer.content,
        usage: writer.usage,
        cost_usd: writer.cost_usd,
        latency_ms: writer.latency_ms,
        role: 'aggregator',
      },
    ],
    agreement: fusionAgreement(draft, writer.content),
    groups: groupsRecord(groupAnswers(draft.answers)),
    selected: { index, model: writer.model },
    judge: draft.judge,
    ...(draft.analysis ? { analysis: draft.analysis } : {}),
    ...(draft.degraded.length ? { degraded: [...draft.degraded] } : {}),
    calls: [...draft.calls, writer],
  };
}

/** The record when the synthesizer failed: the candidates' vote stands (as `consensus` picks). */
export function fusionFallback(draft: FusionDraft, synthesizer: string, error: string): AggregationResult {
  const groups = groupAnswers(draft.answers);
  const index = groups[0]!.members[0]!;
  const completion = draft.answers.find((a) => a.index === index)!.completion;
  const failed = `synthesizer ${synthesizer} failed (${error}); kept the candidates' vote`;
  return {
    strategy: 'fusion',
    content: completion.content,
    model: completion.model,
    candidates: draft.records,
    agreement: agreementOf(groups, index, draft.answers.length),
    groups: groupsRecord(groups),
    selected: { index, model: completion.model },
    judge: { model: draft.judge.model, rationale: `${draft.judge.rationale}; ${failed}` },
    ...(draft.analysis ? { analysis: draft.analysis } : {}),
    degraded: [...draft.degraded, 'aggregator_failed'],
    calls: draft.calls,
  };
}

/**
 * How far the candidates agree with the answer. A structured answer (number, option, JSON): the share
 * of candidates giving the same one, as for an ensemble. Free text: the share the analysis found on no
 * losing side of a contradiction (a position held by fewer than another; an even split leaves no side
 * winning); without an analysis, 1, as the answer was written from all of them.
 */
function fusionAgreement(draft: FusionDraft, content: string): number {
  const answered = draft.answers.length;
  if (!answered) return 0;
  const final = normalizeAnswer(content);
  if (final.kind === 'number' || final.kind === 'option' || final.kind === 'json') {
    const same = draft.answers.filter((a) => {
      const k = normalizeAnswer(a.completion.content);
      return k.kind === final.kind && k.key === final.key;
    });
    return same.length / answered;
  }
  if (!draft.analysis) return 1;
  const dissent = new Set<number>();
  for (const c of draft.analysis.contradictions) {
    const sizes = c.positions.map((p) => p.candidates.length);
    const top = Math.max(0, ...sizes);
    const winners = sizes.filter((s) => s === top).length;
    c.positions.forEach((p, i) => {
      if (sizes[i]! < top || winners > 1) for (const m of p.candidates) dissent.add(m);
    });
  }
  return (answered - dissent.size) / answered;
}

/** Labels → candidate indices (the record never shows the labels, which only meant something to the analyst). */
function byIndex(a: LabelledAnalysis, labels: readonly string[], order: readonly Answer[]): FusionAnalysis {
  const at = new Map(labels.map((l, i) => [l, order[i]!.index]));
  const ids = (ls: readonly string[]) => ls.map((l) => at.get(l)!).sort((x, y) => x - y);
  return {
    agreements: a.agreements.map((x) => ({ point: x.point, candidates: ids(x.candidates) })),
    contradictions: a.contradictions.map((x) => ({
      topic: x.topic,
      positions: x.positions.map((p) => ({ claim: p.claim, candidates: ids(p.candidates) })),
      ...(x.assessment ? { assessment: x.assessment } : {}),
    })),
    partial_coverage: a.partial_coverage.map((x) => ({ point: x.point, candidates: ids(x.candidates) })),
    unique_insights: a.unique_insights.map((x) => ({
      insight: x.insight,
      candidate: at.get(x.candidate)!,
      ...(x.assessment ? { assessment: x.assessment } : {}),
    })),
    gaps: a.gaps,
  };
}

/** The analysis for the synthesizer, by label, one line per item. */
export function renderAnalysis(a: LabelledAnalysis): string {
  const who = (ls: readonly string[]) => (ls.length ? `[${ls.join(', ')}] ` : '');
  const lines: string[] = [];
  const section = (title: string, items: string[]) => {
    if (items.length) lines.push(`${title}:`, ...items);
  };
  section(
    'Agreements',
    a.agreements.map((x) => `- ${who(x.candidates)}${x.point}`),
  );
  section(
    'Contradictions',
    a.contradictions.flatMap((x) => [
      `- ${x.topic}`,
      ...x.positions.map((p) => `  - ${who(p.candidates)}${p.claim}`),
      ...(x.assessment ? [`  Assessment: ${x.assessment}`] : []),
    ]),
  );
  section(
    'Partial coverage',
    a.partial_coverage.map((x) => `- ${who(x.candidates)}${x.point}`),
  );
  section(
    'Unique insights',
    a.unique_insights.map(
      (x) => `- [${x.candidate}] ${x.insight}${x.assessment ? ` (assessment: ${x.assessment})` : ''}`,
    ),
  );
  section(
    'Gaps',
    a.gaps.map((g) => `- ${g}`),
  );
  return lines.length ? lines.join('\n') : 'The analyst found nothing to report.';
}

function summary(a: FusionAnalysis): string {
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  return [
    n(a.agreements.length, 'point of agreement', 'points of agreement'),
    n(a.contradictions.length, 'contradiction', 'contradictions'),
    n(a.partial_coverage.length, 'partly covered point', 'partly covered points'),
    n(a.unique_insights.length, 'unique insight', 'unique insights'),
    n(a.gaps.length, 'gap', 'gaps'),
  ].join(', ');
}

/** Fusion in two stages: candidates and analysis, then the synthesizer (which the gateway streams). */
export function fusionStages(request: CompletionRequest, options: FanOutOptions): Staged {
  const writer = options.synthesizer ?? options.judge;
  if (!writer) throw new TypeError('fusion needs a judge model (the analyst)');
  return {
    writer,
    async prepare(complete, signal) {
      const draft = await prepareFusion(request, options, complete, signal);
      return {
        calls: draft.calls,
        degraded: draft.degraded,
        request: fusionSynthesis(request, draft),
        result: (completion) => fusionResult(draft, completion),
        fallback: (error) => fusionFallback(draft, writer, error),
      };
    },
  };
}

export async function fusion(
  request: CompletionRequest,
  options: FanOutOptions,
  complete: Complete,
  signal: AbortSignal,
): Promise<AggregationResult> {
  return runStaged(fusionStages(request, options), complete, signal);
}
