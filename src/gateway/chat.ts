import type { ChatRequest, FinishReason, StreamEvent, Usage } from '../chat/index.ts';
import { GatewayError, toGatewayError } from '../errors/index.ts';
import type { Caller } from './caller.ts';
import { buildChain } from './chain.ts';
import { costOf, usageBody } from './cost.ts';
import type { CallSignals } from './execute.ts';
import { completeChain, openStreamChain } from './execute.ts';
import type { Gateway } from './gateway.ts';
import { ChunkBuilder, completionBody, publicAttempts, type QuorumRecord } from './response.ts';

/** One request's context, created by the server. */
export interface ChatContext {
  requestId: string;
  caller: Caller;
  /** Aborted when the client goes away. */
  clientSignal: AbortSignal;
  /** performance.now() when the request arrived. */
  startedAt: number;
}

/** What the server needs to answer. */
export interface ChatMeta {
  /** Catalog id of the model that answered. */
  model: string;
  costUsd: number;
  /** Time spent in the gateway itself, excluding upstream time. */
  overheadMs: number;
}

export type ChatReply =
  | { stream: false; body: ReturnType<typeof completionBody>; meta: ChatMeta }
  | {
      stream: true;
      meta: ChatMeta;
      /** Chunk objects; the last one carries usage and quorum. Throws GatewayError on a mid-stream failure. */
      chunks: AsyncGenerator<Record<string, unknown>>;
    };

function signalsFor(gw: Gateway, ctx: ChatContext): CallSignals & { cleanup(): void } {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), gw.config.server.request_timeout_ms);
  const cleanup = () => {
    clearTimeout(timer);
    ctx.clientSignal.removeEventListener('abort', cleanup);
  };
  // A client gone before its stream was read never runs the stream's own cleanup.
  ctx.clientSignal.addEventListener('abort', cleanup, { once: true });
  return { signal: AbortSignal.any([ctx.clientSignal, deadline.signal]), deadline: deadline.signal, cleanup };
}

const ms = (n: number) => Math.round(n * 1000) / 1000;

export async function chatCompletion(
  gw: Gateway,
  ctx: ChatContext,
  request: ChatRequest,
): Promise<ChatReply> {
  const chain = buildChain(gw, ctx.caller, request.model, request.quorum?.fallbacks);
  const signals = signalsFor(gw, ctx);
  const id = `chatcmpl-${ctx.requestId}`;
  const created = Math.floor(Date.now() / 1000);

  if (!request.stream) {
    try {
      const callStart = performance.now();
      const { result, deployment, attempts } = await completeChain(chain, request, signals);
      const upstreamMs = performance.now() - callStart;
      const cost = costOf(result.usage, deployment.spec.price);
      const quorum: QuorumRecord = {
        request_id: ctx.requestId,
        cost_usd: cost,
        attempts: publicAttempts(attempts),
      };
      const body = completionBody(id, created, deployment.spec.id, result, result.usage, quorum);
      const overheadMs = ms(performance.now() - ctx.startedAt - upstreamMs);
      return { stream: false, body, meta: { model: deployment.spec.id, costUsd: cost, overheadMs } };
    } finally {
      signals.cleanup();
    }
  }

  let opened: Awaited<ReturnType<typeof openStreamChain>>;
  const callStart = performance.now();
  try {
    opened = await openStreamChain(chain, request, signals);
  } catch (err) {
    signals.cleanup();
    throw err;
  }
  const firstEventAt = performance.now();
  const { deployment, attempts, first, rest } = opened;
  const builder = new ChunkBuilder(id, created, deployment.spec.id);
  const includeUsage = request.stream_options?.include_usage === true;
  const meta: ChatMeta = {
    model: deployment.spec.id,
    costUsd: 0,
    overheadMs: ms(callStart - ctx.startedAt + (performance.now() - firstEventAt)),
  };

  async function* chunks(): AsyncGenerator<Record<string, unknown>> {
    let usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
    let finish: FinishReason = 'stop';
    let sawToolCall = false;
    try {
      yield builder.delta({ role: 'assistant', content: '' });
      let event: StreamEvent | undefined = first;
      while (event) {
        switch (event.type) {
          case 'text':
            yield builder.delta({ content: event.text });
            break;
          case 'tool_call':
            sawToolCall = true;
            yield builder.delta({ tool_calls: [toolCallDelta(event)] });
            break;
          case 'finish':
            finish = event.reason;
            break;
          case 'usage':
            usage = event.usage;
            break;
        }
        const next = await rest.next();
        event = next.done ? undefined : next.value;
      }
      if (sawToolCall && finish === 'stop') finish = 'tool_calls';
      const cost = costOf(usage, deployment.spec.price);
      meta.costUsd = cost;
      const quorum: QuorumRecord = {
        request_id: ctx.requestId,
        cost_usd: cost,
        attempts: publicAttempts(attempts),
      };
      const tail = { usage: usageBody(usage), quorum };
      if (includeUsage) {
        yield builder.finish(finish);
        yield builder.usage(tail);
      } else {
        yield builder.finish(finish, tail);
      }
    } catch (err) {
      if (signals.deadline.aborted) {
        throw new GatewayError('upstream_timeout', `The stream from ${deployment.spec.id} ran out of time.`);
      }
      const e = toGatewayError(err);
      throw e.kind === 'internal_error'
        ? new GatewayError(
            'upstream_failed',
            `The stream from ${deployment.spec.id} failed: ${(err as Error).message}`,
          )
        : e;
    } finally {
      signals.cleanup();
      await rest.return?.();
    }
  }

  return { stream: true, meta, chunks: chunks() };
}

function toolCallDelta(event: Extract<StreamEvent, { type: 'tool_call' }>) {
  const fn: Record<string, string> = {};
  if (event.name !== undefined) fn.name = event.name;
  fn.arguments = event.arguments ?? '';
  return { index: event.index, ...(event.id ? { id: event.id, type: 'function' } : {}), function: fn };
}
