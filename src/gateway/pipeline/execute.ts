/**
 * The execute stage for a single model: its chain (retries, fallback, breakers, queues), answered
 * through the reply module; the request is settled when the answer is complete (streams: when they end).
 */
import type { ChatRequest } from '../../chat/index.ts';
import type { Plan } from '../access/index.ts';
import type { ResponseCache } from '../cache/index.ts';
import { type CallServices, completeChain, openStreamChain, type StreamOutcome } from '../calls/index.ts';
import {
  type ChatMeta,
  type ChatReply,
  LiveStream,
  liveReply,
  roundMs,
  streamReply,
} from '../replies/index.ts';
import type { RequestContext } from '../request/index.ts';

export async function executeChain(
  services: CallServices,
  cache: ResponseCache,
  rc: RequestContext,
  request: ChatRequest,
  plan: Plan,
  cacheKey: string | null,
): Promise<ChatReply> {
  const cached = cacheKey ? 'miss' : undefined;
  if (!request.stream) {
    try {
      const callStart = performance.now();
      const { result, deployment, attempts } = await completeChain(services, plan.chain, request, rc);
      const upstreamMs = performance.now() - callStart;
      if (cacheKey) cache.set(cacheKey, { model: deployment.spec.id, result });
      rc.attempts.push(...attempts);
      return liveReply(rc, deployment, result, upstreamMs, cached);
    } finally {
      await rc.end();
    }
  }

  const callStart = performance.now();
  let opened: StreamOutcome;
  try {
    opened = await openStreamChain(services, plan.chain, request, rc);
  } catch (err) {
    await rc.end();
    throw err;
  }
  const firstEventAt = performance.now();
  rc.attempts.push(...opened.attempts);
  const meta: ChatMeta = {
    model: opened.deployment.spec.id,
    costUsd: 0,
    overheadMs: roundMs(callStart - rc.startedAt + (performance.now() - firstEventAt)),
    headers: rc.headers,
    ...(cached ? { cache: cached } : {}),
  };
  return streamReply(opened, new LiveStream(rc, request, opened.deployment, meta, cache, cacheKey), meta);
}
