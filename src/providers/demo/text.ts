import type { ChatMessage } from '../../chat/index.ts';

/** Small text helpers the demo's answers share: message text, hashing, excerpts, fenced blocks, topics. */

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p: { type?: string; text?: string }) => (p.type === 'text' ? (p.text ?? '') : ''))
    .join(' ');
}

/** Every system message's text, joined. */
export function systemText(messages: readonly ChatMessage[]): string {
  return messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => textOf(m.content))
    .join('\n\n');
}

/** The latest user message's text. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  const user = [...messages].reverse().find((m) => m.role === 'user');
  return textOf(user?.content);
}

/** Every message's text, joined: what a recogniser searches for markers. */
export function allText(messages: readonly ChatMessage[]): string {
  return messages.map((m) => textOf(m.content)).join('\n\n');
}

/** FNV-1a: a stable hash for deterministic choices (which model errs, tie breaks). */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** One line, whitespace collapsed, cut at `max` characters on a word boundary when it can. */
export function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`;
}

export interface FencedBlock {
  label: string;
  text: string;
}

/**
 * The `<<<BEGIN token X>>> … <<<END token X>>>` blocks of Quorum's judge and reviewer prompts. Read
 * line by line (linear in the prompt, whatever a client puts in it).
 */
export function fencedBlocks(text: string): FencedBlock[] {
  const out: FencedBlock[] = [];
  let open: { fence: string; label: string; lines: string[] } | null = null;
  for (const line of text.split('\n')) {
    if (open) {
      if (line === `<<<END ${open.fence}>>>`) {
        out.push({ label: open.label, text: open.lines.join('\n') });
        open = null;
      } else open.lines.push(line);
      continue;
    }
    const begin = /^<<<BEGIN (\S+) (\S+)>>>$/.exec(line);
    if (begin) open = { fence: `${begin[1]} ${begin[2]}`, label: begin[2]!, lines: [] };
  }
  return out;
}

const VERB =
  /^(?:please\s+)?(?:summari[sz]e|explain|describe|write(?:\s+(?:an?|the)\s+\w+(?:\s+\w+)?\s+(?:on|about))?|draft|outline|list|give(?:\s+me)?|tell\s+me\s+about|what\s+(?:is|are)|who\s+(?:is|was)|compare|plan|review|polish|discuss)\s+/i;
const QUALIFIER = /\s+(?:in\s+(?:one|two|three|a\s+few|\d+)\s+\w+|briefly|in\s+detail)$/i;

/**
 * A short phrase naming what a prompt is about, for answers that read like content: "Why tests matter"
 * from "Write an article … on Why tests matter, following this outline: …", "the CAP theorem" from
 * "Summarise the CAP theorem in one sentence.", "Launch a newsletter" from "Plan how to achieve this
 * goal: Launch a newsletter".
 */
export function topicOf(prompt: string): string {
  const text = prompt.trim().replace(/^answer this request as well as possible:\s*/i, '');
  const line = (text.split('\n').find((l) => l.trim()) ?? '').trim();
  const first = line.split(/(?<=[.?!])\s+(?=[A-Z])/)[0] ?? line;
  let topic = /\b(?:on|about)\s+(["'“]?[A-Z][^,.:;?!\n"”]{2,70})/.exec(first)?.[1];
  if (!topic) {
    const colon = /^([^:]{3,80}):\s*(\S.{2,})$/.exec(first);
    topic = colon ? colon[2] : first.replace(VERB, '');
  }
  topic = topic!
    .replace(/^["'“]|["”]$/g, '')
    .replace(/[\s.:;,!?]+$/, '')
    .replace(QUALIFIER, '');
  return excerpt(topic || 'the request', 70);
}

/** A topic to use mid-sentence: "Why tests matter" → "why tests matter", but "Ada Lovelace" stays. */
export function inSentence(topic: string): string {
  const [first = '', second = ''] = topic.split(/\s+/);
  if (/^[A-Z][a-z]+$/.test(first) && !/^[A-Z]/.test(second) && first !== 'I') {
    return topic.charAt(0).toLowerCase() + topic.slice(1);
  }
  return topic;
}
