/** The non-streamed answer's body and the `quorum` record every answer carries. */
import type { ChatResult, Usage } from '../../chat/index.ts';
import type { Attempt } from '../deployments/index.ts';
import { usageBody } from './usage.ts';

/** The `quorum` record on every answer. */
export interface QuorumRecord {
  request_id: string;
  cost_usd: number;
  attempts: Omit<Attempt, 'latency_ms'>[];
  [extra: string]: unknown;
}

export function publicAttempts(attempts: readonly Attempt[]): QuorumRecord['attempts'] {
  return attempts.map(({ latency_ms: _latency, ...rest }) => rest);
}

/** A non-streamed answer's choice, as `completionBody` writes it. */
export interface CompletionChoice {
  index: 0;
  message: {
    role: 'assistant';
    content: string | null;
    refusal: string | null;
    tool_calls?: NonNullable<ChatResult['tool_calls']>;
  };
  logprobs: null;
  finish_reason: ChatResult['finish_reason'];
}

/** Own enumerable keys of `value`, at most `limit + 1` counted. */
function keyCount(value: object, limit: number): number {
  let n = 0;
  for (const _ in value) if (++n > limit) break;
  return n;
}

/** JSON of a value JSON writes (not undefined, a function or a symbol): as `JSON.stringify` does. */
const json = (value: unknown): string => JSON.stringify(value) ?? '\u0000';
/** JSON of a count: a finite number as `String` writes it, which is what JSON writes. */
const countJson = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/**
 * A non-streamed chat answer. It writes its own JSON: the members' names and the fixed values as
 * literals, the rest through `JSON.stringify`, byte for byte what `JSON.stringify` of the whole object
 * writes (≈ half the work for the race's answer). When any part has a member the literal text does not
 * know (something added a key), or a value JSON would leave out, the whole object is serialised as usual.
 * A copy (`{ ...body }`) is a plain object and is serialised as usual too.
 */
export class CompletionBody {
  [key: string]: unknown;
  id: string;
  object = 'chat.completion' as const;
  created: number;
  model: string;
  choices: [CompletionChoice];
  usage: ReturnType<typeof usageBody>;
  quorum: QuorumRecord;

  constructor(
    id: string,
    created: number,
    model: string,
    choice: CompletionChoice,
    usage: Usage,
    quorum: QuorumRecord,
  ) {
    this.id = id;
    this.created = created;
    this.model = model;
    this.choices = [choice];
    this.usage = usageBody(usage);
    this.quorum = quorum;
  }

  /** This answer's JSON (as `JSON.stringify` writes it). */
  json(): string {
    const choice = this.choices[0];
    const message = choice?.message;
    const usage = this.usage;
    const u = usage as Partial<typeof usage> | null;
    if (
      this.object !== 'chat.completion' ||
      keyCount(this, 7) !== 7 ||
      !Array.isArray(this.choices) ||
      this.choices.length !== 1 ||
      typeof choice !== 'object' ||
      choice === null ||
      keyCount(choice, 4) !== 4 ||
      choice.index !== 0 ||
      choice.logprobs !== null ||
      typeof message !== 'object' ||
      message === null ||
      message.role !== 'assistant' ||
      keyCount(message, 4) !== (message.tool_calls === undefined ? 3 : 4) ||
      typeof u !== 'object' ||
      u === null ||
      keyCount(u, 5) !== 5 ||
      typeof u.prompt_tokens_details !== 'object' ||
      u.prompt_tokens_details === null ||
      keyCount(u.prompt_tokens_details, 1) !== 1 ||
      typeof u.completion_tokens_details !== 'object' ||
      u.completion_tokens_details === null ||
      keyCount(u.completion_tokens_details, 1) !== 1 ||
      typeof u.prompt_tokens !== 'number' ||
      typeof u.completion_tokens !== 'number' ||
      typeof u.total_tokens !== 'number' ||
      typeof u.prompt_tokens_details.cached_tokens !== 'number' ||
      typeof u.completion_tokens_details.reasoning_tokens !== 'number' ||
      typeof this.created !== 'number'
    ) {
      return JSON.stringify(this);
    }
    const text =
      `{"id":${json(this.id)},"object":"chat.completion","created":${countJson(this.created)},"model":${json(this.model)},` +
      `"choices":[{"index":0,"message":{"role":"assistant","content":${json(message.content)},"refusal":${json(message.refusal)}` +
      `${message.tool_calls === undefined ? '' : `,"tool_calls":${json(message.tool_calls)}`}},"logprobs":null,` +
      `"finish_reason":${json(choice.finish_reason)}}],"usage":{"prompt_tokens":${countJson(u.prompt_tokens)},` +
      `"completion_tokens":${countJson(u.completion_tokens)},"total_tokens":${countJson(u.total_tokens)},` +
      `"prompt_tokens_details":{"cached_tokens":${countJson(u.prompt_tokens_details.cached_tokens)}},` +
      `"completion_tokens_details":{"reasoning_tokens":${countJson(u.completion_tokens_details.reasoning_tokens)}}},` +
      `"quorum":${json(this.quorum)}}`;
    // A value JSON would have left out (marked by json()): serialise the whole object instead.
    return text.includes('\u0000') ? JSON.stringify(this) : text;
  }
}

/** A body's JSON: a completion's from its own writer, any other by `JSON.stringify`. */
export function bodyJson(body: unknown): string {
  return body instanceof CompletionBody ? body.json() : JSON.stringify(body);
}

export function completionBody(
  id: string,
  created: number,
  model: string,
  result: ChatResult,
  usage: Usage,
  quorum: QuorumRecord,
): CompletionBody {
  const message: CompletionChoice['message'] = {
    role: 'assistant',
    content: result.content,
    refusal: result.refusal ?? null,
  };
  if (result.tool_calls?.length) message.tool_calls = result.tool_calls;
  return new CompletionBody(
    id,
    created,
    model,
    { index: 0, message, logprobs: null, finish_reason: result.finish_reason },
    usage,
    quorum,
  );
}
