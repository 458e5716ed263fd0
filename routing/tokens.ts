/**
 * Prompt token estimates without a tokenizer: every message, content part, tool definition and
 * response schema counted, text by script (text-tokens.ts) and images, files and audio by size
 * (media-tokens.ts). `likely` is for routing's context-window fit, where a fast typical count is
 * right; `most` is for budget holds and tpm limits, which must not be out-billed by any input.
 */
import { audioTokens, fileTokens, imageTokens } from './media-tokens.ts';
import { TextMemo } from './text-memo.ts';
import { type TokenRange, textTokenRange } from './text-tokens.ts';

export { estimateTextTokens, maxTextTokens, type TokenRange } from './text-tokens.ts';

/** Role markers and separators around each message, as OpenAI documents. */
const PER_MESSAGE = 4;
const PER_PROMPT = 3;

interface MessageLike {
  role: string;
  content?: unknown;
  name?: unknown;
  tool_calls?: { function: { name: string; arguments: string } }[];
  refusal?: unknown;
}

/** What of a request's options reaches the model as prompt text. */
export interface PromptExtras {
  tools?: readonly unknown[] | null | undefined;
  response_format?: unknown;
}

/** Long texts' estimates, remembered: every turn of a chat resends the system prompt and the turns before. */
const ranges = new TextMemo(textTokenRange);

class Tally {
  likely = 0;
  most = 0;
  add(range: TokenRange): void {
    this.likely += range.likely;
    this.most += range.most;
  }
  text(value: unknown): void {
    if (typeof value === 'string' && value.length > 0) this.add(ranges.get(value));
  }
  /** A structure sent as JSON (tool schemas, unknown parts): its serialised text. */
  json(value: unknown): void {
    if (value === undefined || value === null) return;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    this.text(text ?? String(value));
  }
}

function part(t: Tally, p: unknown): void {
  if (typeof p === 'string') {
    t.text(p);
    return;
  }
  if (!p || typeof p !== 'object') return;
  const o = p as Record<string, any>;
  if (o.type === 'text') t.text(o.text);
  else if (o.type === 'refusal') t.text(o.refusal);
  else if (o.type === 'image_url') t.add(imageTokens(o.image_url ?? {}));
  else if (o.type === 'file') t.add(fileTokens(o.file ?? {}));
  else if (o.type === 'input_audio') t.add(audioTokens(o.input_audio ?? {}));
  // A part this version does not know still reaches the model: count all of it.
  else t.json(o);
}

/** Both estimates for a prompt: messages, then tools and the response schema. */
export function estimatePromptRange(messages: readonly MessageLike[], extras: PromptExtras = {}): TokenRange {
  const t = new Tally();
  t.add({ likely: PER_PROMPT, most: PER_PROMPT });
  for (const m of messages) {
    t.add({ likely: PER_MESSAGE, most: PER_MESSAGE });
    t.text(m.name);
    if (Array.isArray(m.content)) for (const p of m.content) part(t, p);
    else part(t, m.content);
    t.text(m.refusal);
    for (const call of m.tool_calls ?? []) {
      t.text(call.function?.name);
      t.text(call.function?.arguments);
    }
  }
  if (extras.tools?.length) t.json(extras.tools);
  const format = extras.response_format as { type?: unknown; json_schema?: unknown } | null | undefined;
  if (format && format.type === 'json_schema') t.json(format.json_schema);
  return { likely: t.likely, most: Math.max(t.most, t.likely) };
}

/** The typical prompt size (context-window fit, the demo provider's usage). */
export function estimatePromptTokens(
  messages: readonly MessageLike[],
  tools?: readonly unknown[] | null,
  responseFormat?: unknown,
): number {
  return estimatePromptRange(messages, { tools, response_format: responseFormat }).likely;
}

/** The most the prompt can bill (budget holds, tpm). */
export function maxPromptTokens(
  messages: readonly MessageLike[],
  tools?: readonly unknown[] | null,
  responseFormat?: unknown,
): number {
  return estimatePromptRange(messages, { tools, response_format: responseFormat }).most;
}
