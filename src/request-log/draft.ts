/**
 * One request's record while the request runs: the server opens it once the caller is known, the
 * endpoint notes what was asked (and, only with content logging on, the prompt and the answer's text),
 * the gateway puts the request's context in `request` (the TraceSlot), and the server finishes it when
 * the last byte is out. Nothing is computed before then.
 */
import type { Caller, TraceSlot } from '../gateway/index.ts';
import { CONTENT_BUDGET } from './clip.ts';
import type { Surface } from './record.ts';

/** How the request ended, as the server saw it. */
export interface RequestEnd {
  /** The HTTP status sent. */
  status: number;
  /** `x-quorum-model`: what answered (comma-separated). */
  models: string | null;
  /** `x-quorum-overhead-ms`. */
  overheadMs: number | null;
  /** `x-quorum-cache`. */
  cache: string | null;
  /** The error the client got: the response's, or a stream's after it began. */
  failure: { status: number; code: string; message: string } | undefined;
  /** The client went away before the answer was complete. */
  cancelled: boolean;
  /** Set once the request log has waited for such a request to settle. */
  settled?: boolean;
  /** performance.now() at the last byte. */
  endedAt: number;
}

export interface DraftSink {
  readonly content: boolean;
  finish(draft: RequestDraft, end: RequestEnd): void;
}

export class RequestDraft implements TraceSlot {
  request: TraceSlot['request'] = undefined;
  readonly id: string;
  readonly surface: Surface;
  readonly caller: Caller;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** Epoch ms when the request arrived. */
  readonly arrivedAt: number;
  model: string | null = null;
  stream = false;
  tags: Record<string, string> | null = null;
  /** The prompt in the surface's own shape; set only with content logging on. */
  prompt: unknown = undefined;
  /** The answer's text; collected only with content logging on. */
  answer: string | null = null;
  /** Or how to read it once the response is out (a body that would have to be parsed for it). */
  lateAnswer: (() => string | null) | undefined = undefined;
  /** POST /v1/reviews: the verdict and the reviews. */
  review: unknown = undefined;
  private readonly sink: DraftSink;
  private finished = false;

  constructor(sink: DraftSink, id: string, surface: Surface, caller: Caller, startedAt: number, now: number) {
    this.sink = sink;
    this.id = id;
    this.surface = surface;
    this.caller = caller;
    this.startedAt = startedAt;
    this.arrivedAt = Math.round(now - (performance.now() - startedAt));
  }

  /** Whether prompt and answer text are kept: callers skip collecting them otherwise. */
  get content(): boolean {
    return this.sink.content;
  }

  /** What the client asked for; the prompt is kept only with content logging on. */
  asked(
    model: string | null | undefined,
    stream: boolean | null | undefined,
    tags?: unknown,
    prompt?: unknown,
  ) {
    this.model = typeof model === 'string' ? model : null;
    this.stream = stream === true;
    if (tags && typeof tags === 'object' && Object.keys(tags).length) {
      this.tags = tags as Record<string, string>;
    }
    if (this.sink.content && prompt !== undefined) this.prompt = prompt;
  }

  /** More of a streamed answer's text (kept to the content budget). */
  more(text: string): void {
    const have = this.answer ?? '';
    if (have.length <= CONTENT_BUDGET) this.answer = have + text;
  }

  finish(end: RequestEnd): void {
    if (this.finished) return;
    this.finished = true;
    this.sink.finish(this, end);
  }
}
