/** Anthropic's raw stream events → the gateway's StreamEvents, yielded as they arrive. */
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { StreamEvent } from '../../chat/index.ts';
import { UpstreamError } from '../upstream-error.ts';
import { finishReasonOf, usageOf } from './response.ts';

type AnthropicUsage = Parameters<typeof usageOf>[0];

export async function* translateStream(
  providerId: string,
  events: AsyncIterable<RawMessageStreamEvent>,
  json: boolean,
): AsyncGenerator<StreamEvent> {
  // Anthropic numbers content blocks (text, thinking, tool_use) together; OpenAI numbers tool calls
  // alone. A tool call after a text block is block 1 but must be tool_calls[0] for the client.
  const tools = new Map<number, { index: number; sentArguments: boolean }>();
  let usage: AnthropicUsage = {};
  let finished = false;
  let stopped = false;
  const fence = json ? new FenceStripper() : null;
  const text = (t: string) => textOf(fence ? fence.push(t) : t);

  for await (const event of events) {
    switch (event.type) {
      case 'message_start':
        usage = { ...event.message.usage };
        yield { type: 'model', model: event.message.model };
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use') {
          const index = tools.size;
          tools.set(event.index, { index, sentArguments: false });
          yield { type: 'tool_call', index, id: block.id, name: block.name };
        } else if (block.type === 'text' && block.text) {
          yield* text(block.text);
        }
        break;
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta') yield* text(delta.text);
        else if (delta.type === 'input_json_delta') {
          const tool = tools.get(event.index);
          if (tool && delta.partial_json) {
            tool.sentArguments = true;
            yield { type: 'tool_call', index: tool.index, arguments: delta.partial_json };
          }
        }
        // thinking, signature and citation deltas have no OpenAI equivalent.
        break;
      }
      case 'content_block_stop': {
        // A call without arguments streams no input_json_delta; clients still need parseable JSON.
        const tool = tools.get(event.index);
        if (tool && !tool.sentArguments) yield { type: 'tool_call', index: tool.index, arguments: '{}' };
        break;
      }
      case 'message_delta': {
        for (const [key, value] of Object.entries(event.usage ?? {})) {
          if (value != null) (usage as Record<string, unknown>)[key] = value;
        }
        if (fence) yield* textOf(fence.end());
        if (!finished) {
          finished = true;
          yield { type: 'finish', reason: finishReasonOf(event.delta.stop_reason) };
        }
        break;
      }
      case 'message_stop':
        stopped = true;
        break;
    }
  }
  // The SDK ends quietly when the connection closes mid-stream; without message_stop the answer is cut.
  if (!stopped) {
    throw new UpstreamError(providerId, 0, `${providerId} stream ended before message_stop`, {
      failure: 'connection',
    });
  }
  if (!finished) yield { type: 'finish', reason: 'stop' };
  yield { type: 'usage', usage: usageOf(usage) };
}

function textOf(t: string): StreamEvent[] {
  return t ? [{ type: 'text', text: t }] : [];
}

/**
 * Streams text through while removing a markdown fence around a JSON answer. It holds back only what
 * could still be the opening line (until its newline) or the closing fence (trailing backticks/space).
 */
export class FenceStripper {
  private mode: 'head' | 'plain' | 'fenced' = 'head';
  private held = '';

  push(text: string): string {
    if (this.mode === 'plain') return text;
    this.held += text;
    if (this.mode === 'head') {
      const t = this.held.trimStart();
      if (t === '' || (t.length < 3 && /^`+$/.test(t))) return '';
      const newline = t.indexOf('\n');
      const opening =
        t.startsWith('```') && (newline < 0 ? t.length <= 16 : /^```[a-zA-Z]*\s*$/.test(t.slice(0, newline)));
      if (!opening) {
        this.mode = 'plain';
        return this.take(this.held.length);
      }
      if (newline < 0) return '';
      this.mode = 'fenced';
      this.held = t.slice(newline + 1);
    }
    // Fenced: emit all but a trailing run that may be (the start of) the closing fence.
    const hold = /\s*`{0,3}\s*$/.exec(this.held)?.[0].length ?? 0;
    return this.take(this.held.length - hold);
  }

  /** What is left at the end of the text, minus the closing fence. */
  end(): string {
    const rest = this.mode === 'fenced' ? this.held.replace(/\s*```\s*$/, '') : this.held;
    this.held = '';
    this.mode = 'plain';
    return rest;
  }

  private take(n: number): string {
    const out = this.held.slice(0, n);
    this.held = this.held.slice(n);
    return out;
  }
}
