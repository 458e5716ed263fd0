/**
 * What a surface tells the passthrough path: the call it wants made (a model name, whether to stream,
 * its worst case) and a protocol that knows the surface's wire format — how to address a deployment,
 * how to read an answer's usage on the side, how an error answer reads. The path itself knows no
 * provider: it sends bytes to a URL and passes bytes back.
 */
import type { CostBounds } from '../../../routing/route-types.ts';
import type { Usage } from '../../chat/index.ts';
import type { ProviderConfig, ProviderType } from '../../config/index.ts';
import type { WholeAnswer } from '../../providers/http/types.ts';
import type { UpstreamError } from '../../providers/upstream-error.ts';
import type { SpanRequest } from '../calls/index.ts';
import type { ChatMeta } from '../replies/index.ts';

/** One deployment a raw call goes to, as a protocol sees it. */
export interface RawTarget {
  /** The catalog id: what the client is told answered. */
  model: string;
  /** The name sent upstream. */
  upstream: string;
  provider: ProviderConfig;
}

/** The HTTP request of one raw call: always a POST. */
export interface RawRequest {
  /** Absolute URL. */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** A whole 2xx answer, read: the bytes for the client and the call's usage. */
export interface RawWhole {
  body: string | Buffer;
  /** What the call used; null for a call nothing is charged for (it writes no ledger row). */
  usage: Usage | null;
  /** The provider's finish reason and model name, for the span. */
  finish?: string | undefined;
  responseModel?: string | undefined;
}

/** One server-sent event of a streamed answer, as it goes on to the client. */
export interface RawEvent {
  /** The event's SSE text, ready to write. */
  frame: string;
  /** The answer has begun (content, or its end): the stream is alive and can no longer fall back. */
  opens: boolean;
  /** The provider reported a failure in the stream; the frame says so to the client in its words. */
  error?: UpstreamError;
}

/**
 * Reads one streamed answer on the side: each event becomes the frame passed on (its bytes unchanged
 * but where the protocol renames the model), and the usage it reports is collected.
 */
export interface RawStreamTap {
  /** Pushes the event's frames onto `out`; false at the stream's last event. Throws when unreadable. */
  event(data: string, name: string | undefined, out: RawEvent[]): boolean;
  /** The usage reported so far, or undefined before any. */
  usage(): Usage | undefined;
  /** Whether the stream reached its proper end (else it was cut). */
  readonly complete: boolean;
  /** Characters of output seen so far, to charge a cut stream for what it generated. */
  readonly generatedChars: number;
  readonly finish?: string | undefined;
  readonly responseModel?: string | undefined;
}

/** A surface's wire format, for the passthrough path. One object per request. */
export interface RawProtocol {
  /** The request for one deployment: its URL, headers (credentials included) and body. */
  request(target: RawTarget): RawRequest;
  /** A non-2xx answer as the failure the chain decides on (retry, fall back, or tell the client). */
  failure(target: RawTarget, answer: WholeAnswer): UpstreamError;
  /** A whole 2xx answer. Throws an UpstreamError (bad_response) when it cannot be read. */
  whole(target: RawTarget, body: Buffer): RawWhole;
  /** A reader for a streamed answer. */
  tap(target: RawTarget): RawStreamTap;
  /**
   * Sets the body's output limit (its wire name) to the cap a budget gave the request. A protocol
   * without it is held on its whole worst case and never capped.
   */
  capOutput?(maxTokens: number): void;
}

/** One raw call a surface asks for. */
export interface PassthroughCall {
  /** The model name the client sent (a catalog id or alias). */
  model: string;
  /** The request's own fallbacks (`[]`: none); else the configured ones. */
  fallbacks?: readonly string[] | undefined;
  tags?: Record<string, string> | undefined;
  stream: boolean;
  /** Provider types this surface can call raw: other deployments of the chain are left out. */
  providerTypes: readonly ProviderType[];
  /** Narrows those further, by each provider's own settings (one that serves the surface's endpoint). */
  accepts?: ((provider: ProviderConfig) => boolean) | undefined;
  /** The prompt's token bounds and output limit, for the budget hold; null for a free call (no hold, no ledger). */
  cost: CostBounds | null;
  protocol: RawProtocol;
  /** The span's request attributes and operation name (GenAI `gen_ai.operation.name`). */
  span: SpanRequest & { operation: string };
}

export type PassthroughReply =
  | { stream: false; body: string | Buffer; meta: ChatMeta }
  | {
      stream: true;
      meta: ChatMeta;
      /**
       * SSE frames as the client gets them. Throws a GatewayError when the stream fails after it
       * began; `return()` (also before the first `next()`) ends the upstream call and the request.
       */
      frames: AsyncIterator<string> & { return(): Promise<IteratorResult<string>> };
    };
