/**
 * Whether an OpenAI-typed provider serves the Responses API (`{base_url}/responses`), so that
 * POST /v1/responses can pass a request to it raw. OpenAI's own API does; most OpenAI-compatible
 * servers serve chat completions only, so elsewhere it takes the provider's `responses: true`.
 */
import type { ProviderConfig } from '../../config/index.ts';
import { baseURLOf } from './request.ts';

const OPENAI_HOST = 'api.openai.com';

/** Each provider's answer, worked out once (its base URL parsed): it is asked on every request. */
const known = new WeakMap<ProviderConfig, boolean>();

export function servesResponses(config: ProviderConfig): boolean {
  let serves = known.get(config);
  if (serves === undefined) {
    serves = config.type === 'openai' && (config.responses ?? baseURLOf(config).hostname === OPENAI_HOST);
    known.set(config, serves);
  }
  return serves;
}
