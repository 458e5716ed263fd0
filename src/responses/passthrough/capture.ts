/**
 * What Quorum learns of a response passed through raw, for it to store: the Response as the body or
 * the stream's events carry it (the last state seen, the final one), the output items finished so far
 * (a stream that fails midway is stored with them) and the events' numbering (so an error event Quorum
 * writes after the upstream's last one takes the next number).
 */
export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export class ResponseCapture {
  /** The response as the latest event carrying one said it (created, in progress, …). */
  latest: Json | undefined;
  /** The response in its final state: completed, incomplete, or failed. */
  final: Json | undefined;
  /** The final event as sent (its SSE name and data), to be rewritten should storing it fail. */
  finalEvent: { name: string | undefined; data: string } | undefined;
  /** Output items finished so far, by `output_index`. */
  readonly items: unknown[] = [];
  /** The upstream's `error` event, when the stream ended with one. */
  error: { code: string; message: string } | undefined;
  /** The last event's `sequence_number` (-1 before any). */
  lastSequence = -1;

  /** The response to store when the stream failed without a final one; undefined before any state. */
  failed(error: { code: string; message: string }): Json | undefined {
    if (!this.latest) return undefined;
    return {
      ...this.latest,
      status: 'failed',
      error,
      output: this.items.filter((item) => item !== undefined),
      usage: null,
    };
  }
}
