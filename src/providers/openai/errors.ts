/**
 * Failures of an OpenAI-compatible call → UpstreamError, so retry, fallback and health decisions never
 * look at transport classes. A provider's error answer is read as the `openai` SDK read it: its
 * `error.message` (else the body, quoted) and `error.code` (else `error.type`), with retry-after.
 */
import { transportFailure } from '../http/failure.ts';
import { headerValue, type WholeAnswer } from '../http/pool.ts';
import { retryAfterFromHeaders, UpstreamError } from '../upstream-error.ts';

/** Maps anything thrown around a call (the pool's errors, a parse error, our own bug) to an UpstreamError. */
export function toUpstreamError(provider: string, err: unknown, signal: AbortSignal): UpstreamError {
  return transportFailure(provider, err, signal);
}

/** The body as text, as a WHATWG `Response.text()` reads it (UTF-8, a leading BOM dropped). */
export function bodyText(body: Buffer): string {
  const text = body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The fields of a provider's error object that are read; anything else in the body is ignored. */
interface ErrorFields {
  message?: unknown;
  code?: unknown;
  type?: unknown;
  status?: unknown;
}

const fieldsOf = (error: unknown): ErrorFields | undefined =>
  typeof error === 'object' && error !== null ? (error as ErrorFields) : undefined;

/** JSON text of a parsed value (cannot fail on parsed JSON but for depth: then said plainly). */
function quoted(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return 'an unreadable error message';
  }
}

/** The SDK's message for an error without a string `message`: `<status> <what the body said>`. */
function statusMessage(status: number, error: unknown, text: string | undefined): string {
  const message = fieldsOf(error)?.message;
  const said = message ? quoted(message) : error ? quoted(error) : text;
  if (status && said) return `${status} ${said}`;
  if (status) return `${status} status code (no body)`;
  return said || '(no status code or body)';
}

/** The provider's error as an UpstreamError: its `error` object's message and code. */
function providerError(
  provider: string,
  status: number,
  error: unknown,
  text: string | undefined,
  headers?: WholeAnswer['headers'],
): UpstreamError {
  const fields = fieldsOf(error);
  const message = typeof fields?.message === 'string' ? fields.message : statusMessage(status, error, text);
  return new UpstreamError(provider, status, message, {
    code: fields?.code ?? fields?.type ?? null,
    ...(headers ? { retryAfterMs: retryAfterFromHeaders((name) => headerValue(headers, name)) } : {}),
  });
}

/** A non-2xx answer. A JSON body without an `error` field is taken as the error itself. */
export function httpFailure(provider: string, answer: WholeAnswer): UpstreamError {
  const text = bodyText(answer.body);
  const json = parseOrUndefined(text);
  const error =
    typeof json === 'object' && json !== null ? ((json as { error?: unknown }).error ?? json) : undefined;
  return providerError(provider, answer.status, error, json ? undefined : text, answer.headers);
}

/**
 * An `error` in an event stream (after a 200): the provider failed mid-answer. Its status is the one
 * the body names (vLLM and others put it in `code`), else 500.
 */
export function streamFailure(provider: string, error: unknown): UpstreamError {
  const fields = fieldsOf(error);
  const named = typeof fields?.code === 'number' ? fields.code : Number(fields?.status);
  const status = Number.isInteger(named) && named >= 400 && named <= 599 ? named : 500;
  return providerError(provider, status, error, undefined);
}
