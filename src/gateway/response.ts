import type { ChatResult, FinishReason, Usage } from '../chat/index.ts';
import { usageBody } from './cost.ts';
import type { Attempt } from './deployment.ts';

/** The `quorum` record on every answer. */
export interface QuorumRecord {
  request_id: string;
  cost_usd: number;
  attempts: Omit<Attempt, 'latency_ms'>[];
  [extra: string]: unknown;
}

export function publicAttempts(attempts: Attempt[]): QuorumRecord['attempts'] {
  return attempts.map(({ latency_ms: _latency, ...rest }) => rest);
}

export function completionBody(
  id: string,
  created: number,
  model: string,
  result: ChatResult,
  usage: Usage,
  quorum: QuorumRecord,
) {
  return {
    id,
    object: 'chat.completion' as const,
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: result.content,
          refusal: result.refusal ?? null,
          ...(result.tool_calls?.length ? { tool_calls: result.tool_calls } : {}),
        },
        logprobs: null,
        finish_reason: result.finish_reason,
      },
    ],
    usage: usageBody(usage),
    quorum,
  };
}

/** Builds the `chat.completion.chunk` objects of one streamed answer. */
export class ChunkBuilder {
  private readonly id: string;
  private readonly created: number;
  private readonly model: string;

  constructor(id: string, created: number, model: string) {
    this.id = id;
    this.created = created;
    this.model = model;
  }

  private chunk(choices: unknown[], extra?: Record<string, unknown>) {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices,
      ...extra,
    };
  }

  delta(delta: Record<string, unknown>) {
    return this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]);
  }

  finish(reason: FinishReason, extra?: Record<string, unknown>) {
    return this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: reason }], extra);
  }

  /** The usage-only chunk OpenAI sends when `stream_options.include_usage` is set. */
  usage(extra: Record<string, unknown>) {
    return this.chunk([], extra);
  }
}
