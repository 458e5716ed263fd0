/**
 * `POST /v1/responses` passed through raw, for a model every deployment of whose chain serves the
 * Responses API (an `openai` provider with `responses`, OpenAI's own API by default): the client's body
 * goes upstream — a follow-up's conversation expanded from Quorum's own store, `store: false`, only
 * `model` renamed — and the upstream's answer comes back with its own bytes, under Quorum's id. The
 * pipeline is the gateway's raw-call path (authorization, hold, limits, retries, fallback, ledger); the
 * response is stored as the client received it, before the client hears it is done.
 */
import type { Context } from 'hono';
import { toGatewayError } from '../../../errors/index.ts';
import {
  type Caller,
  chainServedRaw,
  type Gateway,
  type PassthroughReply,
  passthrough,
  replaceMember,
  replaceMembers,
  sseFrame,
} from '../../../gateway/index.ts';
import { servesResponses } from '../../../providers/openai/responses.ts';
import {
  EventCounter,
  loadConversation,
  planPassthrough,
  type ResponseCapture,
  type ResponsePass,
  ResponsesPassthrough,
  responseId,
} from '../../../responses/index.ts';
import type { AppEnv } from '../../env.ts';
import { eventStreamBody } from '../../event-stream.ts';
import { jsonTextAnswer, streamHeaders } from '../../json-answer.ts';
import { chatContext, SSE_HEADERS } from '../chat.ts';
import type { ResponsesDeps } from './deps.ts';

const RAW_TYPES = ['openai'] as const;

type Json = Record<string, unknown>;
type Frames = Extract<PassthroughReply, { stream: true }>['frames'];

/**
 * Whether the request is passed through: its model's whole chain (fallbacks included) serves the
 * Responses API. A chain with any other deployment is translated, so that every fallback stays
 * reachable; an inline ensemble fans out through the chat pipeline.
 */
export function passesThrough(gw: Gateway, caller: Caller, body: ResponsePass): boolean {
  if (body.quorum?.ensemble) return false;
  return chainServedRaw(gw, caller, body.model, body.quorum?.fallbacks, servesResponses);
}

/**
 * Why a model that serves the Responses API itself is translated anyway (for a refusal of the
 * translation to say so), or undefined when it does not serve it.
 */
export function whyTranslated(gw: Gateway, caller: Caller, body: ResponsePass): string | undefined {
  if (!chainServedRaw(gw, caller, body.model, [], servesResponses)) return undefined;
  return body.quorum?.ensemble
    ? `\`${body.model}\` serves the Responses API itself, but this request fans out (quorum.ensemble) and is translated`
    : `\`${body.model}\` serves the Responses API itself, but its fallback chain also reaches a model that does not, so the request is translated; send "quorum": {"fallbacks": []} to call it alone`;
}

/** Stores a response; false when the store failed (the answer then says `store: false`). */
type Keep = (response: Json) => Promise<boolean>;

const errorFrame = (event: Json) => `event: error\ndata: ${JSON.stringify(event)}\n\n`;

export async function passResponse(
  c: Context<AppEnv>,
  deps: ResponsesDeps,
  text: string,
  body: ResponsePass,
): Promise<Response> {
  const { gateway, store, logger } = deps;
  const caller = c.get('caller');
  const previousId = body.previous_response_id ?? null;
  const conversation = previousId
    ? await loadConversation(store?.responses, previousId, caller.operator ? undefined : caller.team)
    : { chain: [], items: [] };
  const plan = planPassthrough(text, body, conversation.items);
  const id = responseId();
  const storing = store !== undefined && body.store !== false;
  const protocol = new ResponsesPassthrough(plan.body, {
    id,
    previousResponseId: previousId,
    store: storing,
    promptTokensMax: plan.bounds.promptTokensMax ?? plan.bounds.promptTokens,
  });
  const reply = await passthrough(gateway, chatContext(c, body), {
    model: body.model,
    fallbacks: body.quorum?.fallbacks,
    tags: body.quorum?.tags,
    stream: body.stream === true,
    providerTypes: RAW_TYPES,
    accepts: servesResponses,
    cost: plan.bounds,
    protocol,
    span: { operation: 'chat', maxTokens: body.max_output_tokens ?? null, temperature: body.temperature },
  });

  const keep: Keep = async (response) => {
    if (!storing) return true;
    try {
      await store.responses.save({
        id,
        team: caller.team,
        keyId: caller.keyId,
        previousResponseId: previousId,
        chain: conversation.chain,
        input: plan.input,
        response,
      });
      return true;
    } catch (err) {
      logger.warn({ err, req_id: c.get('requestId') }, 'response answered but not stored');
      response.store = false;
      return false;
    }
  };

  if (!reply.stream) {
    const text = typeof reply.body === 'string' ? reply.body : reply.body.toString('utf8');
    const final = protocol.capture.final;
    const stored = final ? await keep(final) : true;
    return jsonTextAnswer(c, reply.meta, stored ? text : replaceMember(text, ['store'], 'false'));
  }
  streamHeaders(c, reply.meta);
  const frames = new StoringFrames(reply.frames, protocol, keep);
  const finish = c.get('deferEnd')();
  const stream = eventStreamBody(frames, {
    onEnd: (error, cancelled) => finish({ ...(error ? { error: error.code } : {}), cancelled }),
    // Quorum's own error event, numbered after the upstream's last.
    errorFrame: (error) => errorFrame(new EventCounter(protocol.capture.lastSequence + 1).error(error)),
  });
  return c.body(stream, 200, SSE_HEADERS);
}

/**
 * The upstream's frames, the response stored on the way: a final one (completed, incomplete, failed)
 * before its event reaches the client, and a stream that fails — an `error` event, a cut — as a failed
 * response with the items finished so far. An object, not a generator: closing it before it was read
 * must still close the upstream call.
 */
class StoringFrames implements AsyncIterator<string> {
  readonly #frames: Frames;
  readonly #protocol: ResponsesPassthrough;
  readonly #keep: Keep;
  #stored = false;

  constructor(frames: Frames, protocol: ResponsesPassthrough, keep: Keep) {
    this.#frames = frames;
    this.#protocol = protocol;
    this.#keep = keep;
  }

  async next(): Promise<IteratorResult<string>> {
    let next: IteratorResult<string>;
    try {
      next = await this.#frames.next();
    } catch (err) {
      const error = toGatewayError(err);
      await this.#storeFailed(this.#protocol.capture, { code: error.code, message: error.message });
      throw err;
    }
    if (next.done || this.#stored) return next;
    const capture = this.#protocol.capture;
    if (capture.final) {
      this.#stored = true;
      if (!(await this.#keep(capture.final)) && capture.finalEvent) {
        const { name, data } = capture.finalEvent;
        return { done: false, value: sseFrame(name, replaceMembers(data, ['response'], { store: 'false' })) };
      }
    } else if (capture.error) {
      await this.#storeFailed(capture, capture.error);
    }
    return next;
  }

  async return(): Promise<IteratorResult<string>> {
    return this.#frames.return();
  }

  async #storeFailed(capture: ResponseCapture, error: { code: string; message: string }): Promise<void> {
    if (this.#stored) return;
    this.#stored = true;
    const failed = capture.failed(error);
    if (failed) await this.#keep(failed);
  }
}
