/** The Anthropic adapter: OpenAI-shaped calls through the official `@anthropic-ai/sdk` Messages API. */
import Anthropic from '@anthropic-ai/sdk';
import { nodeFetch } from '../http/node-fetch.ts';
import type { AdapterFactory, ProviderAdapter } from '../types.ts';
import { toUpstreamError } from './errors.ts';
import { toAnthropicParams, wantsJson } from './request.ts';
import { toChatResult } from './response.ts';
import { translateStream } from './stream.ts';
import { sdkBaseURL } from './wire.ts';

export { DEFAULT_MAX_TOKENS } from './request.ts';
export { sdkBaseURL } from './wire.ts';

export const createAnthropicAdapter: AdapterFactory = (config) => {
  const headers = config.headers ?? {};
  const version = Object.entries(headers).find(([name]) => name.toLowerCase() === 'anthropic-version')?.[1];
  const baseURL = sdkBaseURL(config.base_url);
  const client = new Anthropic({
    // Left out when unset, so the SDK's own default (ANTHROPIC_BASE_URL, then api.anthropic.com) applies;
    // likewise a missing key falls back to ANTHROPIC_API_KEY. The SDK sends it as `Authorization: Bearer`.
    ...(baseURL ? { baseURL } : {}),
    ...(config.api_key ? { apiKey: config.api_key } : {}),
    timeout: config.timeout_ms,
    // The gateway retries (and falls back) itself; SDK retries would multiply attempts and hide them.
    maxRetries: 0,
    fetch: nodeFetch,
    // The SDK would print an unparsable event to stderr, and that text can quote the prompt.
    logLevel: 'off',
    defaultHeaders: headers,
  });
  const options = {
    providerId: config.id,
    // SDK 1.x speaks API version 2026-10-21, which refuses temperature/top_p; an operator who pins
    // the older version in `headers` gets them back (temperature clamped to Anthropic's max of 1).
    sampling: version !== undefined && version < '2026-10-21',
  };

  const adapter: ProviderAdapter = {
    id: config.id,
    type: 'anthropic',

    async complete({ model, request, signal }) {
      const params = toAnthropicParams(model, request, options);
      try {
        const message = await client.messages.create({ ...params, stream: false }, { signal });
        return toChatResult(config.id, message, wantsJson(request));
      } catch (err) {
        throw toUpstreamError(config.id, err, signal);
      }
    },

    async *stream({ model, request, signal }) {
      const params = toAnthropicParams(model, request, options);
      try {
        const events = await client.messages.create({ ...params, stream: true }, { signal });
        yield* translateStream(config.id, events, wantsJson(request));
      } catch (err) {
        throw toUpstreamError(config.id, err, signal);
      }
    },
  };
  return adapter;
};
