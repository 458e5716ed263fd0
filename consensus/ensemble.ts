/**
 * Mixture-of-Agents (Wang et al., 2024). Layer 1: proposers answer the request. Each further layer:
 * the proposers answer again with the previous layer's answers as references. Finally an aggregator
 * (`judge`) synthesises one response from the last layer's numbered answers.
 *
 * The gateway streams the aggregator itself: `ensembleStages` runs the proposers and gives the
 * aggregator's request, which the gateway streams to the judge model, then the record (`ensembleResult`).
 * `ensemble` does both for non-streaming callers. An aggregator that fails does not fail the answer: the last
 * layer's vote stands, marked `degraded: ['aggregator_failed']` (`ensembleFallback`).
 */
import { fenceBlock, fenceRules, tokenFor } from './fence.ts';
import { type Answer, GatherError } from './gather.ts';
import { agreementOf, groupAnswers, groupsRecord } from './group.ts';
import { normalizeAnswer } from './normalize.ts';
import { DEFAULT_SEED } from './prng.ts';
import { gatherSamples } from './samples.ts';
import { runStaged, type Staged } from './staged.ts';
import type {
  AggregationResult,
  CandidateRecord,
  Complete,
  Completion,
  CompletionRequest,
  FanOutOptions,
  Message,
} from './types.ts';

export interface Proposals {
  /** Every proposer record, layer by layer (each carries `layer`). */
  records: CandidateRecord[];
  /** The last answered layer's answers, in candidate order: what the aggregator synthesises. */
  answers: string[];
  /** The last answered layer, with indices into `records`. */
  final: Answer[];
  calls: Completion[];
}

/**
 * Runs the proposer layers. A later layer that gets fewer answers than needed does not fail the request:
 * its failures are recorded and the aggregator works from the previous layer.
 */
export async function propose(
  request: CompletionRequest,
  options: FanOutOptions,
  complete: Complete,
  signal: AbortSignal,
): Promise<Proposals> {
  const layers = Math.max(1, Math.floor(options.layers ?? 1));
  const seed = options.seed ?? DEFAULT_SEED;
  const records: CandidateRecord[] = [];
  const calls: Completion[] = [];
  let final: Answer[] = [];
  for (let layer = 1; layer <= layers; layer++) {
    const prompt =
      layer === 1
        ? request
        : referencesRequest(
            request,
            final.map((a) => a.completion.content),
            seed + layer,
          );
    const offset = records.length;
    try {
      const got = await gatherSamples(prompt, options, complete, signal);
      records.push(...got.records.map((r) => ({ ...r, layer })));
      calls.push(...got.answers.map((a) => a.completion));
      final = got.answers.map((a) => ({ index: a.index + offset, completion: a.completion }));
    } catch (error) {
      if (layer === 1 || !(error instanceof GatherError) || error.aborted) throw error;
      records.push(...error.records.map((r) => ({ ...r, layer })));
    }
  }
  return { records, answers: final.map((a) => a.completion.content), final, calls };
}

const AGGREGATE = [
  'Several AI assistants have answered the latest user message in this conversation; their responses are below.',
  'Synthesise them into one response of your own that is better than any of them: weigh them critically, keep what is correct and well supported, fix or drop what is wrong, biased or unsupported, and fill any gaps. Where they disagree, decide on the merits rather than by vote.',
  'Do not mention the responses, their number or their authors, and do not simply copy one. Reply to the user directly, in the format and language the user asked for.',
];

const REFERENCE = [
  'Other AI assistants have answered the latest user message in this conversation; their responses are below as references.',
  'Use them to write your own best answer: they may contain mistakes, so check them rather than trust them, and keep what is correct. Reply to the user directly without mentioning the references.',
];

/** The aggregator's request: the user's conversation with a leading system message holding the numbered answers. */
export function aggregatorRequest(
  request: CompletionRequest,
  answers: readonly string[],
  seed = DEFAULT_SEED,
): CompletionRequest {
  return withResponses(request, answers, AGGREGATE, seed);
}

/** A later layer's proposer request: the previous layer's answers as references. */
export function referencesRequest(
  request: CompletionRequest,
  answers: readonly string[],
  seed = DEFAULT_SEED,
): CompletionRequest {
  return withResponses(request, answers, REFERENCE, seed);
}

function withResponses(
  request: CompletionRequest,
  answers: readonly string[],
  intro: readonly string[],
  seed: number,
): CompletionRequest {
  const token = tokenFor(seed, answers);
  const numbered = answers.map((a, i) => fenceBlock(String(i + 1), a, token));
  const system: Message = {
    role: 'system',
    content: [
      ...intro,
      fenceRules(token, 'The responses'),
      `Responses (numbered 1 to ${answers.length}):`,
      ...numbered,
    ].join('\n\n'),
  };
  return { ...request, messages: [system, ...request.messages] };
}

/**
 * The record once the aggregator has answered. The aggregator is appended to `candidates` with
 * `role: 'aggregator'` and is `selected`. `agreement`: when the synthesis is a structured answer
 * (number, option, JSON), the share of the last layer's answers with the same normalised answer — low
 * means the aggregator overruled the proposers; for free-form text, 1 (it was synthesised from all of them).
 */
export function ensembleResult(proposals: Proposals, aggregator: Completion): AggregationResult {
  const synthesis = normalizeAnswer(aggregator.content);
  const finalKeys = proposals.final.map((a) => normalizeAnswer(a.completion.content));
  const structured = synthesis.kind === 'number' || synthesis.kind === 'option' || synthesis.kind === 'json';
  const agreeing = finalKeys.filter((k) => k.kind === synthesis.kind && k.key === synthesis.key).length;
  const index = proposals.records.length;
  return {
    strategy: 'ensemble',
    content: aggregator.content,
    model: aggregator.model,
    candidates: [
      ...proposals.records,
      {
        model: aggregator.model,
        content: aggregator.content,
        usage: aggregator.usage,
        cost_usd: aggregator.cost_usd,
        latency_ms: aggregator.latency_ms,
        role: 'aggregator',
      },
    ],
    agreement: structured ? (finalKeys.length ? agreeing / finalKeys.length : 0) : 1,
    groups: groupsRecord(groupAnswers(proposals.final)),
    selected: { index, model: aggregator.model },
    calls: [...proposals.calls, aggregator],
  };
}

/**
 * The record when the aggregator failed: the last layer's vote stands (its largest group's first
 * answer, as `consensus` picks), `judge.rationale` says why, and `degraded: ['aggregator_failed']`.
 */
export function ensembleFallback(proposals: Proposals, aggregator: string, error: string): AggregationResult {
  const groups = groupAnswers(proposals.final);
  const index = groups[0]!.members[0]!;
  const completion = proposals.final.find((a) => a.index === index)!.completion;
  return {
    strategy: 'ensemble',
    content: completion.content,
    model: completion.model,
    candidates: proposals.records,
    agreement: agreementOf(groups, index, proposals.final.length),
    groups: groupsRecord(groups),
    selected: { index, model: completion.model },
    judge: { model: aggregator, rationale: `aggregator failed (${error}); kept the proposers' vote` },
    degraded: ['aggregator_failed'],
    calls: proposals.calls,
  };
}

/** The ensemble in two stages: the proposer layers, then the aggregator (which the gateway streams). */
export function ensembleStages(request: CompletionRequest, options: FanOutOptions): Staged {
  const aggregator = options.judge;
  if (!aggregator) throw new TypeError('ensemble needs an aggregator model (judge)');
  return {
    writer: aggregator,
    async prepare(complete, signal) {
      const proposals = await propose(request, options, complete, signal);
      return {
        calls: proposals.calls,
        degraded: [],
        request: aggregatorRequest(request, proposals.answers, options.seed ?? DEFAULT_SEED),
        result: (writer) => ensembleResult(proposals, writer),
        fallback: (error) => ensembleFallback(proposals, aggregator, error),
      };
    },
  };
}

export async function ensemble(
  request: CompletionRequest,
  options: FanOutOptions,
  complete: Complete,
  signal: AbortSignal,
): Promise<AggregationResult> {
  return runStaged(ensembleStages(request, options), complete, signal);
}
