/**
 * Strategies whose answer is written by one last call — the ensemble's aggregator, fusion's
 * synthesizer — in two stages, so that the gateway can stream that call: `prepare` makes every call
 * before it, then the writer is asked `request` and its answer made a record with `result`, or, when
 * it fails, the candidates' vote stands (`fallback`). `runStaged` does both for callers that do not
 * stream.
 */
import { errorMessage } from './gather.ts';
import { StrategyFailure } from './strategy-failure.ts';
import type { AggregationResult, Complete, Completion, CompletionRequest, Degradation } from './types.ts';

export interface Prepared {
  /** The calls made so far (candidates, and fusion's analyst). */
  calls: Completion[];
  /** The writer's request. */
  request: CompletionRequest;
  /** What was done without so far (fusion: a failed analysis); the result will say so too. */
  degraded: Degradation[];
  result(writer: Completion): AggregationResult;
  fallback(error: string): AggregationResult;
}

export interface Staged {
  /** The model that writes the answer. */
  writer: string;
  prepare(complete: Complete, signal: AbortSignal): Promise<Prepared>;
}

export async function runStaged(
  staged: Staged,
  complete: Complete,
  signal: AbortSignal,
  /** Called before the writer; may throw to stop there (a caller refusing a degraded answer). */
  beforeWriter?: (prepared: Prepared) => void,
): Promise<AggregationResult> {
  const prepared = await staged.prepare(complete, signal);
  beforeWriter?.(prepared);
  let writer: Completion;
  try {
    writer = await complete(staged.writer, prepared.request, signal);
  } catch (error) {
    if (signal.aborted) throw writerStopped(staged.writer, error);
    return prepared.fallback(errorMessage(error));
  }
  return prepared.result(writer);
}

/** The writer's call ended because the caller's signal aborted (deadline, client gone): no answer. */
export function writerStopped(model: string, error: unknown): StrategyFailure {
  const attempt = { model, role: 'aggregator' as const, error: errorMessage(error) };
  return new StrategyFailure('the final answer was stopped', [attempt], { aborted: true });
}
