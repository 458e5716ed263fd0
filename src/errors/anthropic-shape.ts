/**
 * The Anthropic Messages surface's errors (POST /v1/messages and /v1/messages/count_tokens, including
 * authentication and body validation): `{"type":"error","error":{"type","message"},"request_id"}` with
 * Anthropic's error types. The status is the error table's, except that a chain whose every try the
 * provider refused as overloaded is Anthropic's own 529. `error.details.error_code` carries Quorum's
 * code (`budget_exceeded`, `model_not_found`, …), where the Anthropic SDKs read it as `errorCode`.
 */
import type { GatewayError } from './gateway-error.ts';

/** Anthropic's error type for each status the gateway answers with. */
const TYPE_OF_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'invalid_request_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** Anthropic's status for "overloaded". */
const OVERLOADED = 529;

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string; details: { error_code: string } };
  request_id?: string;
}

/** The status and body of a GatewayError on the Anthropic surface. */
export function anthropicError(
  err: GatewayError,
  requestId?: string,
): { status: number; body: AnthropicErrorBody } {
  const status = err.code === 'upstream_overloaded' ? OVERLOADED : err.status;
  const type = TYPE_OF_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return {
    status,
    body: {
      type: 'error',
      error: { type, message: err.message, details: { error_code: err.code } },
      ...(requestId ? { request_id: requestId } : {}),
    },
  };
}
