import type { FinishReason } from '../../chat/index.ts';

/** After a delta chunk's delta, always the same: the choice's other fields, then the closing brackets. */
const DELTA_TAIL = ',"logprobs":null,"finish_reason":null}]}';

/**
 * A streamed answer's delta chunk. Its JSON is the stream's head (id, created and model, written once
 * per stream), its delta's JSON and a fixed tail: the bytes `JSON.stringify` would write, without
 * walking the whole object for every token. A class so that a copy (`{ ...chunk }`, which may differ)
 * is a plain object again and is serialised whole; the head is private, so it is neither serialised
 * nor copied.
 */
export class DeltaChunk {
  /** Read as any other chunk object (a tap on the stream, a translation to another API's events). */
  [key: string]: unknown;
  readonly id: string;
  readonly object = 'chat.completion.chunk';
  readonly created: number;
  readonly model: string;
  readonly choices: [{ index: 0; delta: Record<string, unknown>; logprobs: null; finish_reason: null }];
  readonly #builder: ChunkBuilder;

  constructor(builder: ChunkBuilder, delta: Record<string, unknown>) {
    this.id = builder.id;
    this.created = builder.created;
    this.model = builder.model;
    this.choices = [{ index: 0, delta, logprobs: null, finish_reason: null }];
    this.#builder = builder;
  }

  /** This chunk's JSON (as `JSON.stringify` writes it). */
  json(): string {
    return this.#builder.deltaHead() + JSON.stringify(this.choices[0].delta) + DELTA_TAIL;
  }
}

/** A chunk's JSON: a delta chunk's from its stream's head, any other by `JSON.stringify`. */
export function chunkJson(chunk: object): string {
  return chunk instanceof DeltaChunk ? chunk.json() : JSON.stringify(chunk);
}

/** Builds the `chat.completion.chunk` objects of one streamed answer. */
export class ChunkBuilder {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  #deltaHead: string | undefined;

  constructor(id: string, created: number, model: string) {
    this.id = id;
    this.created = created;
    this.model = model;
  }

  /** A delta chunk's JSON up to its delta. */
  deltaHead(): string {
    this.#deltaHead ??= `${JSON.stringify(this.chunk([])).slice(0, -3)}[{"index":0,"delta":`;
    return this.#deltaHead;
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

  delta(delta: Record<string, unknown>): DeltaChunk {
    return new DeltaChunk(this, delta);
  }

  finish(reason: FinishReason, extra?: Record<string, unknown>) {
    return this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: reason }], extra);
  }

  /** The usage-only chunk OpenAI sends when `stream_options.include_usage` is set. */
  usage(extra: Record<string, unknown>) {
    return this.chunk([], extra);
  }
}
