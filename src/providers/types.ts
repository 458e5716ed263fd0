import type { ChatRequest, ChatResult, StreamEvent } from '../chat/index.ts';
import type { ProviderConfig, ProviderType } from '../config/schema.ts';
import type { EmbeddingsRequest, EmbedInputs, EmbedResult, EncodingFormat } from '../embeddings/index.ts';

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

/** One upstream embeddings call. */
export interface EmbedCall {
  /** The model name to send upstream. */
  model: string;
  /** The validated request; adapters ignore its `model`, `input` and `quorum` (the call carries them). */
  request: EmbeddingsRequest;
  /** The inputs, in order: texts, or token-id arrays (an adapter that cannot take those refuses them). */
  inputs: EmbedInputs;
  /** The form the vectors should come back in, where the provider lets the caller choose. */
  encoding: EncodingFormat;
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
  /** Embeddings, one vector per input in input order; absent when the provider has no embeddings API. */
  embed?(call: EmbedCall): Promise<EmbedResult>;
  /** Closes what the adapter holds open (connection pools); calls after it fail. */
  close?(): Promise<void>;
}

export type AdapterFactory = (config: ProviderConfig) => ProviderAdapter;
