import type { ChatRequest, ChatResult, StreamEvent } from '../chat/index.ts';
import type { ProviderConfig, ProviderType } from '../config/schema.ts';

/** One upstream call, in the gateway's terms. */
export interface UpstreamCall {
  /** The model name to send upstream (the catalog's `upstream`, not the client's name). */
  model: string;
  /**
   * The validated OpenAI-shaped request. Adapters ignore `model`, `stream`, `stream_options` and
   * `quorum` on it: the call says which model, and whether to stream is the method called.
   */
  request: ChatRequest;
  /** Aborts the upstream HTTP request: client gone, deadline passed, or run cancelled. */
  signal: AbortSignal;
}

/**
 * A translation between the internal chat shape and one provider's SDK. Adapters throw
 * UpstreamError (never GatewayError): whether a failure is retried, falls back or reaches the client
 * is the gateway's decision.
 */
export interface ProviderAdapter {
  readonly id: string;
  readonly type: ProviderType;
  complete(call: UpstreamCall): Promise<ChatResult>;
  /** Yields typed events; ends after a `finish` (and `usage`, when the provider reports one). */
  stream(call: UpstreamCall): AsyncIterable<StreamEvent>;
  /** Closes what the adapter holds open (connection pools); calls after it fail. */
  close?(): Promise<void>;
}

export type AdapterFactory = (config: ProviderConfig) => ProviderAdapter;
