/**
 * The embeddings answer, in OpenAI's shape: one `embedding` object per input in input order, in the
 * encoding the client asked for, `model` the catalog id that answered (never the upstream's name),
 * `usage` as charged, and the `quorum` record every answer carries.
 */

import type { Usage } from '../../chat/index.ts';
import { type EmbedResult, type EncodingFormat, encodeVector } from '../../embeddings/index.ts';
import type { CachedEmbeddings } from '../cache/index.ts';
import type { Deployment } from '../deployments/index.ts';
import { type ChatMeta, type QuorumRecord, quorumRecord, roundMs } from '../replies/index.ts';
import type { RequestContext } from '../request/index.ts';

export interface EmbeddingsBody {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
  quorum: QuorumRecord;
}

export interface EmbeddingsReply {
  body: EmbeddingsBody;
  meta: ChatMeta;
}

export function embeddingsReply(
  rc: RequestContext,
  deployment: Deployment,
  result: EmbedResult,
  usage: Usage,
  format: EncodingFormat,
  upstreamMs: number,
  cache?: 'miss',
): EmbeddingsReply {
  // What was charged (usage beyond the hold is never charged, nor shown as charged).
  const cost = rc.spent.totalUsd;
  const model = deployment.spec.id;
  const body: EmbeddingsBody = {
    object: 'list',
    data: result.vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encodeVector(vector, format),
    })),
    model,
    usage: { prompt_tokens: usage.prompt_tokens, total_tokens: usage.prompt_tokens },
    quorum: quorumRecord(rc, cost, rc.attempts),
  };
  const overheadMs = roundMs(performance.now() - rc.startedAt - upstreamMs);
  return {
    body,
    meta: { model, costUsd: cost, overheadMs, headers: rc.headers, ...(cache ? { cache } : {}) },
  };
}

/**
 * A cache hit: the vectors first made for the same team and body, no upstream call and nothing charged
 * (`usage` is zero; `quorum.cached_usage` says what the first answer cost in tokens), as chat's hits.
 */
export function cachedEmbeddingsReply(
  rc: RequestContext,
  hit: CachedEmbeddings,
  format: EncodingFormat,
): EmbeddingsReply {
  const cachedUsage: Usage = { prompt_tokens: hit.promptTokens, completion_tokens: 0 };
  const body: EmbeddingsBody = {
    object: 'list',
    data: hit.vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encodeVector(vector, format),
    })),
    model: hit.model,
    usage: { prompt_tokens: 0, total_tokens: 0 },
    quorum: quorumRecord(rc, 0, [], { cache: 'hit', cached_usage: cachedUsage }),
  };
  const overheadMs = roundMs(performance.now() - rc.startedAt);
  return { body, meta: { model: hit.model, costUsd: 0, overheadMs, cache: 'hit' } };
}
