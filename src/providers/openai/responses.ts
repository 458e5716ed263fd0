/**
 * Whether an OpenAI-typed provider serves the Responses API (`{base_url}/responses`), so that
 * POST /v1/responses can pass a request to it raw. OpenAI's own API does; most OpenAI-compatible
 * servers serve chat completions only, so elsewhere it takes the provider's `responses: true`.
 */
import type { ProviderConfig } from '../../config/index.ts';
import { baseURLOf } from './request.ts';

const OPENAI_HOST = 'api.openai.com';

export function servesResponses(config: ProviderConfig): boolean {
  if (config.type !== 'openai') return false;
  return config.responses ?? baseURLOf(config).hostname === OPENAI_HOST;
}
