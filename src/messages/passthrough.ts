/**
 * POST /v1/messages (and /count_tokens) for an Anthropic model: the client's body goes to the
 * deployment as it came, with only `model` set to the catalog's upstream name (and Quorum's own `quorum`
 * field taken out); the answer comes back as it came, with only `model` set to the catalog id — both
 * by editing that one member's text, never by re-serialising, so thinking signatures, `cache_control`
 * and any field this version does not know arrive byte for byte. Usage is read on the side: from the
 * body, or from `message_start` and `message_delta` in a stream.
 */
import type { Usage } from '../chat/index.ts';
import {
  type RawEvent,
  type RawProtocol,
  type RawStreamTap,
  type RawTarget,
  removeMember,
  replaceMember,
  setMember,
  sseFrame,
} from '../gateway/index.ts';
import { finishReasonOf, usageOf } from '../providers/anthropic/response.ts';
import { ANTHROPIC_API_ROOT, anthropicFailure, sdkBaseURL } from '../providers/anthropic/wire.ts';
import { headerValue, type WholeAnswer } from '../providers/http/types.ts';
import { retryAfterFromHeaders, UpstreamError } from '../providers/upstream-error.ts';

/** The API version sent when neither the client nor the provider's configured headers name one. */
const DEFAULT_VERSION = '2023-06-01';

/** The request headers a client's call keeps upstream; its credentials never go on. */
export interface ClientHeaders {
  /** `anthropic-version`: the client speaks this version's shapes, so it goes on as sent. */
  version?: string | undefined;
  /** `anthropic-beta`: features the client asked for; merged with the provider's own. */
  beta?: string | undefined;
}

type AnthropicUsage = Parameters<typeof usageOf>[0];

export type MessagesEndpoint = 'messages' | 'count_tokens';

const PATHS: Record<MessagesEndpoint, string> = {
  messages: '/v1/messages',
  count_tokens: '/v1/messages/count_tokens',
};

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function betas(...lists: (string | undefined)[]): string {
  const names = lists.flatMap((list) => (list ?? '').split(',').map((b) => b.trim()));
  return [...new Set(names.filter(Boolean))].join(',');
}

/** A token count as reported, or 0 when it is none (a string, a negative, NaN): raw JSON, no SDK checked it. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** The reported usage in the gateway's terms, each count a non-negative number. */
function usageFrom(reported: AnthropicUsage | undefined): Usage {
  const u = (reported ?? {}) as Record<string, unknown>;
  return usageOf({
    input_tokens: count(u.input_tokens),
    output_tokens: count(u.output_tokens),
    cache_read_input_tokens: count(u.cache_read_input_tokens),
    cache_creation_input_tokens: count(u.cache_creation_input_tokens),
  });
}

function unreadable(provider: string, cause?: unknown): UpstreamError {
  return new UpstreamError(provider, 200, 'the provider sent an unreadable answer', {
    failure: 'bad_response',
    cause,
  });
}

/** One request's passthrough: the body as received, the client's version and betas. */
export class MessagesPassthrough implements RawProtocol {
  private body: string;
  private readonly client: ClientHeaders;
  private readonly endpoint: MessagesEndpoint;

  /** `body`: the request's text; `quorum`: whether it carries Quorum's own field (never sent upstream). */
  constructor(body: string, client: ClientHeaders, endpoint: MessagesEndpoint, quorum: boolean) {
    this.body = quorum ? removeMember(body, 'quorum') : body;
    this.client = client;
    this.endpoint = endpoint;
  }

  /** A budget's output cap: `max_tokens`, which every Messages request carries. */
  capOutput(maxTokens: number): void {
    this.body = setMember(this.body, 'max_tokens', String(maxTokens));
  }

  request(target: RawTarget) {
    const provider = target.provider;
    const configured = lowerCased(provider.headers);
    const root = sdkBaseURL(provider.base_url) ?? ANTHROPIC_API_ROOT;
    // As the SDK-based adapter does: the provider's key, else the environment's.
    const key = provider.api_key ?? process.env.ANTHROPIC_API_KEY;
    const beta = betas(configured['anthropic-beta'], this.client.beta);
    const headers: Record<string, string> = {
      ...configured,
      'content-type': 'application/json',
      'anthropic-version': this.client.version ?? configured['anthropic-version'] ?? DEFAULT_VERSION,
      ...(key ? { 'x-api-key': key } : {}),
      ...(beta ? { 'anthropic-beta': beta } : {}),
    };
    const body = replaceMember(this.body, ['model'], JSON.stringify(target.upstream));
    return { url: `${root}${PATHS[this.endpoint]}`, headers, body };
  }

  failure(target: RawTarget, answer: WholeAnswer): UpstreamError {
    const text = answer.body.toString('utf8');
    let error: unknown;
    try {
      const json = JSON.parse(text) as { error?: unknown } | null;
      error = json && typeof json === 'object' ? (json.error ?? json) : undefined;
    } catch {
      // Not JSON (a proxy's HTML page): the status says it; the text is not quoted (it may echo input).
    }
    const retryAfterMs = retryAfterFromHeaders((name) => headerValue(answer.headers, name));
    return anthropicFailure(target.provider.id, answer.status, error, retryAfterMs);
  }

  whole(target: RawTarget, body: Buffer) {
    const text = body.toString('utf8');
    let json: { content?: unknown; usage?: AnthropicUsage; stop_reason?: unknown; model?: unknown } | null;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw unreadable(target.provider.id, err);
    }
    if (!json || typeof json !== 'object') throw unreadable(target.provider.id);
    // A token count is free: passed on as it came, nothing charged.
    if (this.endpoint === 'count_tokens') return { body, usage: null };
    if (!Array.isArray(json.content)) throw unreadable(target.provider.id);
    return {
      body: replaceMember(text, ['model'], JSON.stringify(target.model)),
      usage: usageFrom(json.usage),
      // In the gateway's terms, as the adapter's spans say it.
      finish: finishReasonOf(typeof json.stop_reason === 'string' ? json.stop_reason : null),
      responseModel: typeof json.model === 'string' ? json.model : undefined,
    };
  }

  tap(target: RawTarget): RawStreamTap {
    return new MessagesTap(target);
  }
}

interface StreamEvent {
  type?: unknown;
  message?: { model?: unknown; usage?: AnthropicUsage };
  delta?: { text?: unknown; thinking?: unknown; partial_json?: unknown; stop_reason?: unknown };
  usage?: AnthropicUsage;
  error?: unknown;
}

/**
 * Reads a Messages stream on the side: usage from `message_start` (input, cache reads and writes) and
 * `message_delta` (the totals so far: output, and input where given), the output seen (for a stream cut
 * short), its end (`message_stop`) or an `error` event. The answer begins at the first event after
 * `message_start` and pings.
 */
class MessagesTap implements RawStreamTap {
  complete = false;
  generatedChars = 0;
  finish: string | undefined;
  responseModel: string | undefined;
  private readonly target: RawTarget;
  private reported: AnthropicUsage | undefined;

  constructor(target: RawTarget) {
    this.target = target;
  }

  usage(): Usage | undefined {
    return this.reported ? usageFrom(this.reported) : undefined;
  }

  event(data: string, name: string | undefined, out: RawEvent[]): boolean {
    const event = JSON.parse(data) as StreamEvent | null;
    if (!event || typeof event !== 'object') throw new SyntaxError('an event that is no JSON object');
    const type = typeof event.type === 'string' ? event.type : name;
    switch (type) {
      case 'message_start': {
        const usage = event.message?.usage;
        this.reported = typeof usage === 'object' && usage !== null ? { ...usage } : {};
        const model = event.message?.model;
        if (typeof model === 'string') this.responseModel = model;
        const renamed = replaceMember(data, ['message', 'model'], JSON.stringify(this.target.model));
        out.push({ frame: sseFrame(name, renamed), opens: false });
        return true;
      }
      case 'ping':
        out.push({ frame: sseFrame(name, data), opens: false });
        return true;
      case 'content_block_delta': {
        const d = event.delta;
        const piece = d?.text ?? d?.thinking ?? d?.partial_json;
        if (typeof piece === 'string') this.generatedChars += piece.length;
        break;
      }
      case 'message_delta': {
        // Totals so far, not increments: a field given replaces the one from message_start.
        const merged: Record<string, unknown> = { ...this.reported };
        for (const [field, value] of Object.entries(event.usage ?? {}))
          if (value != null) merged[field] = value;
        this.reported = merged as AnthropicUsage;
        if (typeof event.delta?.stop_reason === 'string')
          this.finish = finishReasonOf(event.delta.stop_reason);
        break;
      }
      case 'message_stop':
        this.complete = true;
        out.push({ frame: sseFrame(name, data), opens: true });
        return false;
      case 'error': {
        const error = anthropicFailure(this.target.provider.id, 0, event.error);
        out.push({ frame: sseFrame(name, data), opens: true, error });
        return false;
      }
    }
    out.push({ frame: sseFrame(name, data), opens: true });
    return true;
  }
}
