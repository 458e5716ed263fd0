/**
 * POST /v1/responses for a model whose deployments serve OpenAI's Responses API: the body planned by
 * request.ts goes to `{base_url}/responses` with `model` set to the deployment's upstream name, and
 * the answer — JSON, or the event stream — comes back as it came but for four members of the Response
 * object, edited in place without re-serialising: `id` (Quorum's, under which it is stored), `model`
 * (the catalog id), and `store` and `previous_response_id` as the client asked (the upstream was sent
 * neither). Usage is read on the side from the body or from `response.completed` / `.incomplete`, and
 * the Response captured for Quorum to store.
 */
import type { Usage } from '../../chat/index.ts';
import {
  type RawEvent,
  type RawProtocol,
  type RawStreamTap,
  type RawTarget,
  type RawWhole,
  replaceMember,
  replaceMembers,
  setMember,
  sseFrame,
} from '../../gateway/index.ts';
import type { WholeAnswer } from '../../providers/http/types.ts';
import { bodyText, httpFailure } from '../../providers/openai/errors.ts';
import { endpointOf, headersOf } from '../../providers/openai/request.ts';
import { UpstreamError } from '../../providers/upstream-error.ts';
import { isObject, type Json, ResponseCapture } from './capture.ts';

/** What the client is told of the response, whatever the upstream said. */
export interface ResponseIdentity {
  /** Quorum's id: the one the response is stored under. */
  id: string;
  previousResponseId: string | null;
  /** Whether Quorum stores it. */
  store: boolean;
  /** The prompt's upper bound: what a call whose usage is missing is charged for its prompt. */
  promptTokensMax: number;
}

/** An error code of a streamed failure, as the HTTP status it stands for. */
const STATUS_OF_CODE: Record<string, number> = {
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  server_error: 500,
  invalid_prompt: 400,
  context_length_exceeded: 400,
  invalid_request_error: 400,
};

/** A token count as reported, or 0 when it is none: raw JSON, no SDK checked it. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Responses usage in the gateway's terms (cached and reasoning tokens are subsets, as on chat). */
function usageOf(reported: unknown): Usage | undefined {
  if (!isObject(reported)) return undefined;
  const input = count(reported.input_tokens);
  const cached = count((reported.input_tokens_details as Json | undefined)?.cached_tokens);
  const reasoning = count((reported.output_tokens_details as Json | undefined)?.reasoning_tokens);
  return {
    prompt_tokens: input,
    completion_tokens: count(reported.output_tokens),
    ...(cached ? { cached_tokens: Math.min(cached, input) } : {}),
    ...(reasoning ? { reasoning_tokens: reasoning } : {}),
  };
}

/** The span's finish reason for a finished Response, in the gateway's terms. */
function finishOf(response: Json): string {
  const reason = (response.incomplete_details as Json | null | undefined)?.reason;
  if (response.status === 'incomplete') return reason === 'content_filter' ? 'content_filter' : 'length';
  const output = Array.isArray(response.output) ? response.output : [];
  return output.some((item) => isObject(item) && item.type === 'function_call') ? 'tool_calls' : 'stop';
}

/** A failure reported inside a stream (an `error` event, a failed response's `error`). */
function streamedFailure(provider: string, error: unknown): UpstreamError {
  const fields = isObject(error) ? error : {};
  const code = typeof fields.code === 'string' ? fields.code : null;
  const status = (code && Object.hasOwn(STATUS_OF_CODE, code) ? STATUS_OF_CODE[code] : undefined) ?? 500;
  const message = typeof fields.message === 'string' ? fields.message : `${status} ${code ?? 'error'}`;
  return new UpstreamError(provider, status, message, { code });
}

/** Whether an error body's `param` names a part of the request other than the model. */
function namesInput(body: Buffer): boolean {
  try {
    const param = (JSON.parse(bodyText(body)) as { error?: { param?: unknown } } | null)?.error?.param;
    return typeof param === 'string' && param !== '' && param !== 'model';
  } catch {
    return false;
  }
}

function unreadable(provider: string, cause?: unknown): UpstreamError {
  return new UpstreamError(provider, 200, 'the provider sent an unreadable answer', {
    failure: 'bad_response',
    cause,
  });
}

/** One request's passthrough. `capture` is the latest call's (the one that answered, once it has). */
export class ResponsesPassthrough implements RawProtocol {
  capture = new ResponseCapture();
  private body: string;
  private readonly identity: ResponseIdentity;

  constructor(body: string, identity: ResponseIdentity) {
    this.body = body;
    this.identity = identity;
  }

  /** A budget's output cap: `max_output_tokens`, set or lowered. */
  capOutput(maxTokens: number): void {
    this.body = setMember(this.body, 'max_output_tokens', String(maxTokens));
  }

  request(target: RawTarget) {
    const { origin, path } = endpointOf(target.provider, '/responses');
    const flat = headersOf(target.provider);
    const headers: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) headers[flat[i]!] = flat[i + 1]!;
    const body = replaceMember(this.body, ['model'], JSON.stringify(target.upstream));
    return { url: `${origin}${path}`, headers, body };
  }

  failure(target: RawTarget, answer: WholeAnswer): UpstreamError {
    const failure = httpFailure(target.provider.id, answer);
    // OpenAI answers 404 for an input item it cannot find (one it never stored): the request's fault,
    // passed on in its words like a 400, not a deployment to fall back from.
    if (answer.status === 404 && namesInput(answer.body)) {
      return new UpstreamError(target.provider.id, 400, failure.message, { code: failure.code });
    }
    return failure;
  }

  /** The Response members the client's view differs in, as JSON texts. */
  edits(target: RawTarget): Record<string, string> {
    const { id, previousResponseId, store } = this.identity;
    return {
      id: JSON.stringify(id),
      model: JSON.stringify(target.model),
      store: String(store),
      previous_response_id: JSON.stringify(previousResponseId),
    };
  }

  /** The same edits on a parsed Response, to the members it has (as the text edits do). */
  patch(response: Json, target: RawTarget): Json {
    for (const [key, json] of Object.entries(this.edits(target))) {
      if (Object.hasOwn(response, key)) response[key] = JSON.parse(json);
    }
    return response;
  }

  whole(target: RawTarget, body: Buffer): RawWhole {
    const text = bodyText(body);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw unreadable(target.provider.id, err);
    }
    if (!isObject(json) || !Array.isArray(json.output)) throw unreadable(target.provider.id);
    const responseModel = typeof json.model === 'string' ? json.model : undefined;
    this.capture = new ResponseCapture();
    this.capture.final = this.patch(json, target);
    // An answer without usage is charged as a cut stream is: the prompt's upper bound, the output seen.
    const usage = usageOf(json.usage) ?? {
      prompt_tokens: this.identity.promptTokensMax,
      completion_tokens: Math.ceil(JSON.stringify(json.output).length / 4),
    };
    return {
      body: replaceMembers(text, [], this.edits(target)),
      usage,
      finish: finishOf(json),
      responseModel,
    };
  }

  tap(target: RawTarget): RawStreamTap {
    this.capture = new ResponseCapture();
    return new ResponsesTap(target, this, this.capture);
  }
}

/**
 * Reads a Responses event stream on the side. `response.created`, `.queued` and `.in_progress` lead;
 * the answer begins with the first event after them (and may no longer fall back). The stream ends at
 * `response.completed` or `.incomplete` (usage read from its response), or fails at `response.failed`
 * or an `error` event, both passed on to the client as they came.
 */
class ResponsesTap implements RawStreamTap {
  complete = false;
  generatedChars = 0;
  finish: string | undefined;
  responseModel: string | undefined;
  private reported: Usage | undefined;
  private readonly target: RawTarget;
  private readonly protocol: ResponsesPassthrough;
  private readonly capture: ResponseCapture;
  private readonly edits: Record<string, string>;

  constructor(target: RawTarget, protocol: ResponsesPassthrough, capture: ResponseCapture) {
    this.target = target;
    this.protocol = protocol;
    this.capture = capture;
    this.edits = protocol.edits(target);
  }

  usage(): Usage | undefined {
    return this.reported;
  }

  event(data: string, name: string | undefined, out: RawEvent[]): boolean {
    const event = JSON.parse(data) as unknown;
    if (!isObject(event)) throw new SyntaxError('an event that is no JSON object');
    const type = typeof event.type === 'string' ? event.type : name;
    const capture = this.capture;
    if (typeof event.sequence_number === 'number') capture.lastSequence = event.sequence_number;
    let text = data;
    const response = isObject(event.response) ? event.response : undefined;
    if (response) {
      if (typeof response.model === 'string') this.responseModel = response.model;
      this.reported = usageOf(response.usage) ?? this.reported;
      text = replaceMembers(data, ['response'], this.edits);
      capture.latest = this.protocol.patch(response, this.target);
    }
    const frame = sseFrame(name, text);
    switch (type) {
      case 'response.created':
      case 'response.queued':
      case 'response.in_progress':
        out.push({ frame, opens: false });
        return true;
      case 'response.output_item.done':
        if (typeof event.output_index === 'number' && event.output_index >= 0) {
          capture.items[event.output_index] = event.item;
        }
        break;
      case 'response.completed':
      case 'response.incomplete':
        if (!response) throw new SyntaxError(`a ${type} event without its response`);
        this.complete = true;
        this.finish = finishOf(response);
        capture.final = response;
        capture.finalEvent = { name, data: text };
        out.push({ frame, opens: true });
        return false;
      case 'response.failed': {
        capture.final = response;
        capture.finalEvent = { name, data: text };
        const error = streamedFailure(this.target.provider.id, response?.error);
        out.push({ frame, opens: true, error });
        return false;
      }
      case 'error': {
        const fields = isObject(event.error) ? event.error : event;
        const error = streamedFailure(this.target.provider.id, fields);
        capture.error = { code: error.code ?? 'server_error', message: error.message };
        out.push({ frame, opens: true, error });
        return false;
      }
      default:
        if (typeof event.delta === 'string') this.generatedChars += event.delta.length;
    }
    out.push({ frame, opens: true });
    return true;
  }
}
