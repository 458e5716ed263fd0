import type { RouteMessage } from './request.ts';

/**
 * The text routing reads, split in two: the last user message (what is being asked now) and the rest
 * of the conversation (system prompt, earlier turns: context that only nudges). Tool results are left
 * out: they are data, and a JSON blob says nothing about what kind of answer is wanted. Both parts are
 * capped so analysis stays linear-and-small on megabyte prompts; length itself is measured uncapped.
 */
export interface TaskText {
  /** The last user message's text, capped at ASK_CAP characters. */
  ask: string;
  /** Everything else except tool results, the most recent CONTEXT_CAP characters. */
  context: string;
  /** Uncapped character counts, for the length signal. */
  askChars: number;
  contextChars: number;
  /** User messages in the conversation. */
  userTurns: number;
  /** Any image part anywhere. */
  hasImage: boolean;
  /** Earlier tool calls or tool results: the model must understand the tool protocol. */
  hasToolTraffic: boolean;
}

const ASK_CAP = 6_000;
const CONTEXT_CAP = 4_000;

function textOf(content: unknown, onImage: () => void): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content as { type?: string; text?: unknown }[]) {
    if (part?.type === 'image_url') onImage();
    else if (typeof part?.text === 'string') out += (out ? '\n' : '') + part.text;
  }
  return out;
}

export function taskText(messages: readonly RouteMessage[]): TaskText {
  let hasImage = false;
  const onImage = () => {
    hasImage = true;
  };
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') {
      lastUser = i;
      break;
    }
  }
  let ask = '';
  let context = '';
  let userTurns = 0;
  let hasToolTraffic = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'user') userTurns++;
    if (m.role === 'tool' || m.tool_calls?.length) hasToolTraffic = true;
    const text = textOf(m.content, onImage);
    if (m.role === 'tool') continue;
    if (i === lastUser) ask = text;
    else if (text) context += (context ? '\n' : '') + text;
  }
  return {
    ask: ask.length > ASK_CAP ? ask.slice(0, ASK_CAP) : ask,
    context: context.length > CONTEXT_CAP ? context.slice(-CONTEXT_CAP) : context,
    askChars: ask.length,
    contextChars: context.length,
    userTurns,
    hasImage,
    hasToolTraffic,
  };
}
