/**
 * Token estimates without a tokenizer: about four characters per token for English and code, plus a
 * small per-message overhead, as OpenAI documents. Used for budget reservation and context checks, where
 * a fast, slightly generous estimate beats an exact count.
 */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

const PER_MESSAGE = 4;
/** What one image costs at most at OpenAI's high detail (a conservative stand-in for every provider). */
const PER_IMAGE = 765;

interface MessageLike {
  role: string;
  content?: unknown;
  tool_calls?: { function: { name: string; arguments: string } }[];
}

export function estimatePromptTokens(messages: readonly MessageLike[], tools?: readonly unknown[]): number {
  let total = 3;
  for (const m of messages) {
    total += PER_MESSAGE;
    const content = m.content;
    if (typeof content === 'string') total += estimateTextTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content as { type?: string; text?: string; refusal?: string }[]) {
        if (part.type === 'image_url') total += PER_IMAGE;
        else total += estimateTextTokens(part.text ?? part.refusal ?? '');
      }
    }
    for (const call of m.tool_calls ?? []) {
      total += estimateTextTokens(call.function.name) + estimateTextTokens(call.function.arguments);
    }
  }
  if (tools?.length) total += estimateTextTokens(JSON.stringify(tools));
  return total;
}
