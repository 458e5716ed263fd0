import type { FinishReason } from '../../chat/index.ts';

/** Builds the `chat.completion.chunk` objects of one streamed answer. */
export class ChunkBuilder {
  private readonly id: string;
  private readonly created: number;
  private readonly model: string;

  constructor(id: string, created: number, model: string) {
    this.id = id;
    this.created = created;
    this.model = model;
  }

  private chunk(choices: unknown[], extra?: Record<string, unknown>) {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices,
      ...extra,
    };
  }

  delta(delta: Record<string, unknown>) {
    return this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]);
  }

  finish(reason: FinishReason, extra?: Record<string, unknown>) {
    return this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: reason }], extra);
  }

  /** The usage-only chunk OpenAI sends when `stream_options.include_usage` is set. */
  usage(extra: Record<string, unknown>) {
    return this.chunk([], extra);
  }
}
