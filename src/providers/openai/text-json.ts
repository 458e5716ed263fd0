/**
 * Long message texts go upstream as JSON remembered from the last time they were sent. An app sends
 * its system prompt with every request and a chat every earlier turn, and escaping those texts again
 * is most of writing the body (≈ 5 of 6 µs for a 3 KB system prompt). From its second sight a text's
 * JSON is kept (routing's TextMemo: the last 256 texts of 512 characters or more, 2 M characters in
 * all) and written as it is through `JSON.rawJSON`: the same bytes `JSON.stringify` writes. A text
 * sent once is only noted, so a request of new texts costs what it did.
 */
import { TextMemo } from '../../../routing/text-memo.ts';

/** `JSON.rawJSON` (Node 21+); without it texts are written as usual. */
const rawJSON = (JSON as { rawJSON?: (text: string) => object }).rawJSON;

/** Shorter texts are written as usual: looking them up would cost more than escaping them. */
const MIN_LENGTH = 512;

/** What is known of a text: whether it was seen before, and its JSON once it came back. */
class Sighting {
  seen = false;
  json: object | undefined = undefined;
}

const sightings = new TextMemo(() => new Sighting(), { minLength: MIN_LENGTH });

/** The text as the body should hold it: itself, or its remembered JSON. */
function textValue(text: string): unknown {
  if (text.length < MIN_LENGTH) return text;
  const sighting = sightings.get(text);
  if (sighting.json !== undefined) return sighting.json;
  if (!sighting.seen) {
    sighting.seen = true;
    return text;
  }
  sighting.json = rawJSON!(JSON.stringify(text));
  return sighting.json;
}

/** A message's content (a text, or parts with texts) as the body should hold it; unchanged if no text is remembered. */
function contentValue(content: unknown): unknown {
  if (typeof content === 'string') return textValue(content);
  if (!Array.isArray(content)) return content;
  let parts: unknown[] | undefined;
  for (let i = 0; i < content.length; i++) {
    const part = content[i] as { type?: unknown; text?: unknown } | null;
    if (part?.type !== 'text' || typeof part.text !== 'string') continue;
    const text = textValue(part.text);
    if (text === part.text) continue;
    parts ??= content.slice();
    parts[i] = { ...part, text };
  }
  return parts ?? content;
}

/**
 * The messages as the upstream body should hold them: the same array when no text is remembered, else
 * a copy whose long texts are their remembered JSON (the request itself is left as it is).
 */
export function messagesForBody(messages: readonly unknown[]): readonly unknown[] {
  if (!rawJSON) return messages;
  let out: unknown[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as { content?: unknown } | null;
    if (message === null || typeof message !== 'object') continue;
    const content = contentValue(message.content);
    if (content === message.content) continue;
    out ??= messages.slice();
    out[i] = { ...message, content };
  }
  return out ?? messages;
}
