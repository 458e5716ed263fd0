/**
 * An embeddings request's pipeline (POST /v1/embeddings): plan (the embedding model's chain, authorized
 * before anything is spent) → admit (rate limits, a hold on every input's upper-bound tokens) →
 * execute (the chain: breakers, queues, retries, fallback) → reply → settle, one RequestContext through
 * all of them, as a chat request.
 */
import { type EmbeddingsRequest, type EmbedInputs, inputList } from '../../embeddings/index.ts';
import { authorizeEmbeddings } from '../access/index.ts';
import { embedChain } from '../calls/index.ts';
import type { Deployment } from '../deployments/index.ts';
import {
  cachedEmbeddingsReply,
  EmbeddingBounds,
  type EmbeddingsReply,
  embeddingsReply,
} from '../embeddings/index.ts';
import type { Gateway } from '../gateway.ts';
import { type ChatContext, RequestContext } from '../request/index.ts';
import { admitRequest } from './admit.ts';

/** Planning refuses synchronously (unknown model, not allowed, not an embedding model): a rejection here too. */
export function createEmbeddings(
  gw: Gateway,
  ctx: ChatContext,
  request: EmbeddingsRequest,
): Promise<EmbeddingsReply> {
  try {
    const rc = new RequestContext(gw, ctx, request.quorum?.tags);
    const chain = authorizeEmbeddings(gw, rc.caller, request);
    // Vectors are deterministic: the same team's same body is answered from the cache, free.
    const cacheKey = gw.cache.embeddingsKeyFor(rc.caller.team, request);
    const hit = cacheKey ? gw.cache.getEmbeddings(cacheKey) : undefined;
    if (hit) return Promise.resolve(cachedEmbeddingsReply(rc, hit, request.encoding_format ?? 'float'));
    return executeEmbeddings(gw, rc, request, inputList(request.input), chain, cacheKey);
  } catch (err) {
    return Promise.reject(err);
  }
}

async function executeEmbeddings(
  gw: Gateway,
  rc: RequestContext,
  request: EmbeddingsRequest,
  inputs: EmbedInputs,
  chain: Deployment[],
  cacheKey: string | null,
): Promise<EmbeddingsReply> {
  await admitRequest(gw.limits, gw.config.server.request_timeout_ms, rc, new EmbeddingBounds(chain, inputs));
  try {
    const encoding = request.encoding_format ?? 'float';
    const callStart = performance.now();
    const outcome = await embedChain(gw, chain, { request, inputs, encoding }, rc);
    const upstreamMs = performance.now() - callStart;
    rc.attempts.push(...outcome.attempts);
    if (cacheKey) {
      gw.cache.setEmbeddings(cacheKey, {
        model: outcome.deployment.spec.id,
        vectors: outcome.result.vectors,
        promptTokens: outcome.usage.prompt_tokens,
      });
    }
    const cache = cacheKey ? 'miss' : undefined;
    return embeddingsReply(
      rc,
      outcome.deployment,
      outcome.result,
      outcome.usage,
      encoding,
      upstreamMs,
      cache,
    );
  } finally {
    await rc.end();
  }
}
