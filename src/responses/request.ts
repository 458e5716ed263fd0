/**
 * A Responses request (and the earlier conversation, when it continues one) as the gateway's chat
 * request, so routing, fan-outs, fallback, the cache, budgets, limits and the ledger apply exactly as
 * they do to chat completions. `instructions` lead as a system message (and, as OpenAI does, are not
 * carried into a follow-up); the history's items come before this request's own.
 */
import type { ChatRequest } from '../chat/index.ts';
import { invalid } from './check.ts';
import { type Item, inputItems, itemsToMessages } from './input.ts';
import type { ResponseCreate, TextFormat } from './schema.ts';
import {
  chatTools,
  type ResponseFunctionTool,
  type ResponseToolChoice,
  responseToolChoice,
  responseTools,
} from './tools.ts';
import { refuseUntranslatable } from './unsupported.ts';

/** The request's settings the Response object repeats back. */
export interface ResponseEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number | null;
  text: { format: TextFormat; verbosity?: string };
  tool_choice: ResponseToolChoice;
  tools: ResponseFunctionTool[];
  top_p: number | null;
  truncation: 'disabled';
  user?: string;
  service_tier?: string;
  prompt_cache_key?: string;
  safety_identifier?: string;
}

export interface ResponsePlan {
  /** What the gateway runs. */
  chat: ChatRequest;
  /** This request's own input items, with their ids: what is stored and listed. */
  input: Item[];
  echo: ResponseEcho;
}

/** The chat request's `response_format` for `text.format`. */
function responseFormat(format: TextFormat | undefined): ChatRequest['response_format'] {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  const { name, schema, description, strict } = format;
  return {
    type: 'json_schema',
    json_schema: {
      name,
      schema,
      ...(description !== undefined ? { description } : {}),
      ...(strict != null ? { strict } : {}),
    },
  };
}

/** Copies the fields that are set (chat forwards unknown fields to OpenAI-compatible upstreams). */
function defined<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: NonNullable<T[K]> } {
  const out: { [K in keyof T]?: NonNullable<T[K]> } = {};
  for (const key in fields) if (fields[key] != null) out[key] = fields[key] as NonNullable<T[typeof key]>;
  return out;
}

/**
 * `history`: the items of the conversation so far, oldest first (each earlier response's input
 * items, then its output). Throws a 400 naming the field for anything that cannot be translated.
 */
export function planResponse(body: ResponseCreate, history: readonly Item[]): ResponsePlan {
  refuseUntranslatable(body);
  const input = inputItems(body.input);
  const tools = responseTools(body.tools);
  const toolChoice = responseToolChoice(body.tool_choice, tools);

  const messages = [
    ...(body.instructions ? [{ role: 'system' as const, content: body.instructions }] : []),
    ...itemsToMessages([...history, ...input]),
  ];
  if (messages.length === 0) {
    throw invalid(
      'input',
      'expected a string or at least one item (or previous_response_id, or instructions)',
    );
  }

  const format = body.text?.format;
  const chat: ChatRequest = {
    model: body.model,
    messages,
    stream: body.stream === true,
    ...chatTools(tools, toolChoice),
    ...defined({
      parallel_tool_calls: body.parallel_tool_calls,
      response_format: responseFormat(format),
      temperature: body.temperature,
      top_p: body.top_p,
      max_completion_tokens: body.max_output_tokens,
      user: body.user,
      // Fields chat completions has too: OpenAI-compatible upstreams receive them, others ignore them.
      reasoning_effort: body.reasoning?.effort,
      verbosity: body.text?.verbosity,
      service_tier: body.service_tier,
      prompt_cache_key: body.prompt_cache_key,
      prompt_cache_retention: body.prompt_cache_retention,
      safety_identifier: body.safety_identifier,
      quorum: body.quorum,
    }),
  };

  const echo: ResponseEcho = {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: body.store ?? true,
    temperature: body.temperature ?? null,
    text: {
      format: format ?? { type: 'text' },
      ...(body.text?.verbosity ? { verbosity: body.text.verbosity } : {}),
    },
    tool_choice: toolChoice ?? 'auto',
    tools,
    top_p: body.top_p ?? null,
    truncation: 'disabled',
    ...defined({
      user: body.user,
      service_tier: body.service_tier,
      prompt_cache_key: body.prompt_cache_key,
      safety_identifier: body.safety_identifier,
    }),
  };
  return { chat, input, echo };
}
