/**
 * The server's side of the request log: the record the authenticate middleware opens for a proxied
 * endpoint's request (finished by the request-context middleware when the last byte is out), and the
 * helpers endpoints use to note what was asked and — only with content logging on — the answer's text.
 */
import type { Context } from 'hono';
import type { ChatReply, PassthroughReply } from '../gateway/index.ts';
import type { RequestDraft } from '../request-log/index.ts';
import type { AppEnv } from './env.ts';

/** This request's record, when it has one. */
export const draftOf = (c: Context<AppEnv>): RequestDraft | undefined => c.get('draft');

/** What the client asked for: the model, stream or not, tags, and the prompt (kept only with content on). */
export function noteAsked(
  c: Context<AppEnv>,
  model: string | null | undefined,
  stream: boolean | null | undefined,
  tags: unknown,
  prompt?: () => unknown,
): void {
  const draft = c.get('draft');
  if (!draft) return;
  draft.asked(model, stream, tags, draft.content && prompt ? prompt() : undefined);
}

/** A chat-shaped reply, its answer's text noted for the record (only with content logging on). */
export function keepAnswer(c: Context<AppEnv>, reply: ChatReply): ChatReply {
  const draft = c.get('draft');
  if (!draft?.content) return reply;
  if (!reply.stream) {
    draft.answer = reply.body.choices[0]?.message.content ?? null;
    return reply;
  }
  draft.answer = '';
  return { ...reply, chunks: new TextTap(reply.chunks, draft, chunkText) };
}

/** A passthrough reply (Anthropic Messages bytes), its answer's text noted the same way. */
export function keepRawAnswer(c: Context<AppEnv>, reply: PassthroughReply): PassthroughReply {
  const draft = c.get('draft');
  if (!draft?.content) return reply;
  if (!reply.stream) {
    const body = reply.body;
    // Read after the response is out, when the record is built.
    draft.lateAnswer = () => messageText(typeof body === 'string' ? body : body.toString('utf8'));
    return reply;
  }
  draft.answer = '';
  return { ...reply, frames: new TextTap(reply.frames, draft, frameText) };
}

function chunkText(chunk: Record<string, unknown>): string | undefined {
  const delta = (chunk.choices as { delta?: { content?: unknown } }[] | undefined)?.[0]?.delta?.content;
  return typeof delta === 'string' ? delta : undefined;
}

/** The text of an Anthropic `content_block_delta` frame. */
function frameText(frame: string): string | undefined {
  if (!frame.includes('"text_delta"')) return undefined;
  const data = frame.split('\n').find((line) => line.startsWith('data:'));
  try {
    const event = JSON.parse(data?.slice(5) ?? '') as { delta?: { type?: string; text?: unknown } };
    return event.delta?.type === 'text_delta' && typeof event.delta.text === 'string'
      ? event.delta.text
      : undefined;
  } catch {
    return undefined;
  }
}

/** The text blocks of an Anthropic Message body. */
function messageText(body: string): string | null {
  try {
    const message = JSON.parse(body) as { content?: { type?: string; text?: unknown }[] };
    const texts = (message.content ?? []).filter((b) => b.type === 'text' && typeof b.text === 'string');
    return texts.length ? texts.map((b) => b.text).join('') : null;
  } catch {
    return null;
  }
}

/**
 * Passes every item on and adds its text to the record. An object rather than a generator: closing it
 * before it was ever read still closes what it wraps (so the upstream call ends and the request settles).
 */
class TextTap<T> implements AsyncGenerator<T, undefined> {
  readonly #inner: AsyncIterator<T>;
  readonly #draft: RequestDraft;
  readonly #text: (item: T) => string | undefined;

  constructor(inner: AsyncIterator<T>, draft: RequestDraft, text: (item: T) => string | undefined) {
    this.#inner = inner;
    this.#draft = draft;
    this.#text = text;
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    const result = await this.#inner.next();
    if (result.done) return { done: true, value: undefined };
    const text = this.#text(result.value);
    if (text) this.#draft.more(text);
    return result;
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    await this.#inner.return?.();
    return { done: true, value: undefined };
  }

  async throw(err: unknown): Promise<IteratorResult<T, undefined>> {
    if (this.#inner.throw) await this.#inner.throw(err);
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
