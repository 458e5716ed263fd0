/**
 * Anthropic wire facts that need no SDK: where the API lives, what its error types mean as HTTP
 * statuses, and an error body read as an UpstreamError. The adapter (SDK-based) and the raw
 * passthrough of POST /v1/messages share them; importing this file loads no SDK.
 */
import { UpstreamError } from '../upstream-error.ts';

/** The public API's root, when a provider names no `base_url`. */
export const ANTHROPIC_API_ROOT = 'https://api.anthropic.com';

/**
 * The SDK appends `/v1/messages` to `baseURL`, so the config's `base_url` is the server root
 * (`https://api.anthropic.com`, `http://127.0.0.1:9002`). A trailing `/v1`, as written for OpenAI-style
 * providers, is dropped so both spellings work.
 */
export function sdkBaseURL(baseUrl: string | undefined): string | undefined {
  return baseUrl?.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/**
 * A mid-stream `error` event arrives after a 200, so it has no status; the error type says what the
 * HTTP status would have been (overloaded_error is Anthropic's 529).
 */
export const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** The status an error type stands for; undefined for a type this table does not know. */
export function statusOfType(type: string | null | undefined): number | undefined {
  return type && Object.hasOwn(STATUS_OF_TYPE, type) ? STATUS_OF_TYPE[type] : undefined;
}

export const PROMPT_TOO_LONG = /prompt is too long|input is too long|context window|exceeds? .*context/i;

interface ErrorObject {
  type?: unknown;
  message?: unknown;
  details?: { error_code?: unknown } | null;
}

/**
 * Anthropic's error object (`{"type":"error","error":{"type","message"}}`'s inner part) as an
 * UpstreamError. `status` is the HTTP status, or 0 for an error event inside a stream (then the type
 * gives it).
 */
export function anthropicFailure(
  provider: string,
  status: number,
  error: unknown,
  retryAfterMs?: number,
): UpstreamError {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as ErrorObject;
  const type = typeof fields.type === 'string' ? fields.type : null;
  const code = fields.details?.error_code ?? type;
  const resolved = status || statusOfType(type) || 500;
  const message =
    typeof fields.message === 'string' ? fields.message : `${resolved} ${type ?? 'error'} (no message)`;
  return new UpstreamError(provider, resolved, message, {
    code,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(resolved === 400 && PROMPT_TOO_LONG.test(message) ? { failure: 'context_length' as const } : {}),
  });
}
