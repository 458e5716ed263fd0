/**
 * A chat request's pipeline (POST /v1/chat/completions, /v1/consensus, workflow llm, judge and ensemble
 * steps): plan → admit → execute → reply → settle, one RequestContext passed through every stage.
 */
import type { ChatRequest } from '../../chat/index.ts';
import { FanOutRun } from '../fanout/index.ts';
import type { Gateway } from '../gateway.ts';
import { type ChatReply, cachedReply } from '../replies/index.ts';
import { type ChatContext, RequestContext } from '../request/index.ts';
import { admitRequest } from './admit.ts';
import { executeChain } from './execute.ts';
import { ChainBounds, FanOutBounds, planChat } from './plan.ts';

export async function chatCompletion(
  gw: Gateway,
  ctx: ChatContext,
  request: ChatRequest,
): Promise<ChatReply> {
  const rc = new RequestContext(gw, ctx, request.quorum?.tags);
  const planned = planChat(gw, rc, request);
  if (planned.kind === 'fanout') {
    await admitRequest(gw, rc, new FanOutBounds(planned.plan, planned.reach, request));
    return new FanOutRun(gw, rc, request, planned.plan, planned.reach).reply();
  }
  if (planned.hit) return cachedReply(rc, request, planned.hit);
  await admitRequest(gw, rc, new ChainBounds(planned.plan, request));
  return executeChain(gw, rc, request, planned.plan, planned.cacheKey);
}
