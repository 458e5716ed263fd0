/** The non-streamed answer's body and the `quorum` record every answer carries. */
import type { ChatResult, Usage } from '../../chat/index.ts';
import type { Attempt } from '../deployments/index.ts';
import { usageBody } from './usage.ts';

/** The `quorum` record on every answer. */
export interface QuorumRecord {
  request_id: string;
  cost_usd: number;
  attempts: Omit<Attempt, 'latency_ms'>[];
  [extra: string]: unknown;
}

export function publicAttempts(attempts: readonly Attempt[]): QuorumRecord['attempts'] {
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
