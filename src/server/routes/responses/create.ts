/**
 * `POST /v1/responses`. A model whose chain serves the Responses API is passed through raw
 * (passthrough.ts). Any other — other providers, `auto`, presets, a chain mixing both: the request (and
 * the stored conversation it continues) becomes a chat request
 * the gateway runs like any other — routing, fan-outs, fallback, cache, budgets, limits, ledger,
 * headers and spans unchanged — and its answer becomes a Response: JSON, or the Responses event stream.
 * With `store` (the default) the finished response is kept under the id the client was given, the
 * stream's `response.created` included, before the client hears that it is done.
 */
import type { Context } from 'hono';
import { GatewayError } from '../../../errors/index.ts';
import { type Caller, chatCompletion, type Gateway } from '../../../gateway/index.ts';
import {
  chatHistory,
  EventCounter,
  loadConversation,
  messageOutput,
  planResponse,
  type ResponseBase,
  type ResponseCreate,
  ResponseCreateSchema,
  type ResponsePass,
  ResponsePassSchema,
  responseEvents,
  responseId,
  responseObject,
  responseUsage,
  statusOf,
} from '../../../responses/index.ts';
import { readJsonText, validationError } from '../../body.ts';
import type { AppEnv } from '../../env.ts';
import { jsonAnswer, streamHeaders } from '../../json-answer.ts';
import { keepAnswer, noteAsked } from '../../request-log.ts';
import { sseBody } from '../../sse.ts';
import { chatContext, SSE_HEADERS } from '../chat.ts';
import type { ResponsesDeps } from './deps.ts';
import { passesThrough, passResponse, whyTranslated } from './passthrough.ts';

/** Each event named by its type, as OpenAI sends them; no `[DONE]` line ends the stream. */
const eventFrame = (event: Record<string, unknown>) =>
  `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

/** The strict schema of the translation: a field Quorum cannot carry to a chat call is refused. */
function translatable(data: ResponsePass): ResponseCreate {
  const result = ResponseCreateSchema.safeParse(data);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

/**
 * Runs a step of the translation; a refusal of what a passthrough would have carried says why this
 * request is translated, when its model serves the Responses API itself.
 */
function explained<T>(gw: Gateway, caller: Caller, data: ResponsePass, step: () => T): T {
  try {
    return step();
  } catch (err) {
    const why = err instanceof GatewayError && err.kind === 'invalid_body' && whyTranslated(gw, caller, data);
    if (!why) throw err;
    throw new GatewayError('invalid_body', `${err.message} (${why})`, {
      param: err.param,
      code: err.code,
      cause: err,
    });
  }
}

export async function createResponse(c: Context<AppEnv>, deps: ResponsesDeps): Promise<Response> {
  const { gateway, store, logger } = deps;
  const { text, data } = await readJsonText(c, ResponsePassSchema, gateway.config.server);
  noteAsked(c, data.model, data.stream, data.quorum?.tags, () =>
    data.instructions === undefined || data.instructions === null
      ? { input: data.input }
      : { instructions: data.instructions, input: data.input },
  );
  const caller = c.get('caller');
  if (passesThrough(gateway, caller, data)) return passResponse(c, deps, text, data);
  const body = explained(gateway, caller, data, () => translatable(data));
  const conversation = body.previous_response_id
    ? await loadConversation(
        store?.responses,
        body.previous_response_id,
        caller.operator ? undefined : caller.team,
      )
    : { chain: [], items: [] };
  const plan = explained(gateway, caller, data, () => planResponse(body, chatHistory(conversation.items)));
  if (!store) plan.echo.store = false;
  const createdAt = Math.floor(Date.now() / 1000);
  const reply = keepAnswer(c, await chatCompletion(gateway, chatContext(c, data), plan.chat));
  const base: ResponseBase = { id: responseId(), createdAt, model: reply.meta.model, echo: plan.echo };

  /** Stores a finished (or failed) response; a store that fails leaves the answer as it is, unstored. */
  const keep = async (response: Record<string, unknown>) => {
    if (!store || response.store !== true) return;
    try {
      await store.responses.save({
        id: base.id,
        team: caller.team,
        keyId: caller.keyId,
        previousResponseId: body.previous_response_id ?? null,
        chain: conversation.chain,
        input: plan.input,
        response,
      });
    } catch (err) {
      logger.warn({ err, req_id: c.get('requestId') }, 'response answered but not stored');
      response.store = false;
    }
  };

  if (!reply.stream) {
    const choice = reply.body.choices[0]!;
    const { status, incomplete_details } = statusOf(choice.finish_reason);
    const response = responseObject(
      { ...base, model: reply.body.model },
      {
        status,
        incomplete_details,
        output: messageOutput(choice.message, status),
        usage: responseUsage(reply.body.usage),
        quorum: reply.body.quorum,
      },
    );
    await keep(response);
    return jsonAnswer(c, reply.meta, response);
  }

  streamHeaders(c, reply.meta);

  const counter = new EventCounter();
  const events = responseEvents(reply.chunks, base, counter, { finished: keep, failed: keep });
  const finish = c.get('deferEnd')();
  const stream = sseBody(events, {
    onEnd: (error, cancelled) =>
      finish({ ...(error ? { error: error.code, failure: error } : {}), cancelled }),
    frame: eventFrame,
    errorFrame: (error) => eventFrame(counter.error(error)),
    done: false,
  });
  return c.body(stream, 200, SSE_HEADERS);
}
