/**
 * One upstream call (plain or streamed) inside its `chat {model}` client span, with its outcome
 * accounted; and the log line for a call that failed on the gateway's own side.
 */
import { requestedOutputTokens } from '../../../routing/request.ts';
import type { ChatRequest, ChatResult, StreamEvent, Usage } from '../../chat/index.ts';
import { InternalUpstreamError, UpstreamError } from '../../providers/upstream-error.ts';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_QUORUM_COST_USD,
  ATTR_QUORUM_PROVIDER_ID,
  failSpan,
  GEN_AI_OPERATION_CHAT,
  GEN_AI_PROVIDER_NAMES,
  NOOP_SPAN,
  type Span,
  SpanKind,
  tracer,
  tracing,
} from '../../telemetry/index.ts';
import { type CallSink, estimatedUsage, recordOf } from '../budget/index.ts';
import { costOf, type Deployment } from '../deployments/index.ts';

/** What a call's span says about the request: its output limit and temperature. */
export interface SpanRequest {
  maxTokens: number | null;
  temperature?: number | null | undefined;
}

/**
 * The `{operation} {model}` client span of one upstream call, with the GenAI request attributes (no
 * prompt, no key). Also used by the passthrough path, whose calls carry raw bodies.
 */
export function startCallSpan(
  dep: Deployment,
  request: SpanRequest,
  operation: string = GEN_AI_OPERATION_CHAT,
): Span {
  // With tracing off the span records nothing: neither it nor its attributes are built (see finishSpan).
  if (!tracing()) return NOOP_SPAN;
  const span = tracer.startSpan(`${operation} ${dep.spec.upstream}`, CLIENT_SPAN);
  if (!span.isRecording()) return span;
  const attributes: Record<string, string | number> = {
    [ATTR_GEN_AI_OPERATION_NAME]: operation,
    [ATTR_GEN_AI_PROVIDER_NAME]: GEN_AI_PROVIDER_NAMES[dep.provider.type],
    [ATTR_GEN_AI_REQUEST_MODEL]: dep.spec.upstream,
    [ATTR_QUORUM_PROVIDER_ID]: dep.provider.id,
  };
  if (request.maxTokens) attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxTokens;
  if (typeof request.temperature === 'number')
    attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
  span.setAttributes(attributes);
  return span;
}

const CLIENT_SPAN = { kind: SpanKind.CLIENT };

function startSpan(dep: Deployment, request: ChatRequest): Span {
  return startCallSpan(dep, { maxTokens: requestedOutputTokens(request), temperature: request.temperature });
}

/** Sets the span's response attributes: the model that answered, usage, finish reason, cost. */
export function finishSpan(
  span: Span,
  dep: Deployment,
  usage: Usage,
  finish: string,
  responseModel?: string,
) {
  // Keys computed from constants make V8 build the object on its slow path: not for a span that drops it.
  if (!span.isRecording()) return;
  span.setAttributes({
    [ATTR_GEN_AI_RESPONSE_MODEL]: responseModel ?? dep.spec.upstream,
    [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.prompt_tokens,
    [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: usage.completion_tokens,
    [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [finish],
    [ATTR_QUORUM_COST_USD]: costOf(usage, dep.spec.price),
  });
}

/**
 * Adapters map their SDK's errors; anything else that escapes one (a bug, a request the SDK could not
 * build) is the gateway's own failure: it must neither reach the client verbatim nor count against
 * the deployment.
 */
export function asUpstreamError(dep: Deployment, err: unknown): UpstreamError {
  return err instanceof UpstreamError ? err : new InternalUpstreamError(dep.provider.id, err);
}

export function errorType(err: unknown): string {
  if (err instanceof UpstreamError) return err.failure === 'http' ? String(err.status) : err.failure;
  return err instanceof Error ? err.name : 'unknown';
}

/** One non-streaming upstream call inside its `chat {model}` client span. */
export async function completeOnce(
  dep: Deployment,
  request: ChatRequest,
  signal: AbortSignal,
  account?: CallSink,
): Promise<ChatResult> {
  const span = startSpan(dep, request);
  const started = performance.now();
  try {
    const result = await dep.adapter.complete({ model: dep.spec.upstream, request, signal });
    finishSpan(span, dep, result.usage, result.finish_reason, result.upstream_model);
    account?.add(recordOf(dep, result.usage, performance.now() - started, 200));
    return result;
  } catch (thrown) {
    const err = asUpstreamError(dep, thrown);
    failSpan(span, errorType(err), err.message);
    const charged = unreportedUsage(request, 0, err);
    account?.add(recordOf(dep, charged, performance.now() - started, statusOf(err), charged !== NO_USAGE));
    throw err;
  } finally {
    span.end();
  }
}

/** One streaming upstream call; the span lasts until the stream ends, fails or is abandoned. */
export async function* streamOnce(
  dep: Deployment,
  request: ChatRequest,
  signal: AbortSignal,
  account?: CallSink,
): AsyncGenerator<StreamEvent> {
  const span = startSpan(dep, request);
  const started = performance.now();
  let usage: Usage | undefined;
  let generated = 0;
  let finish = 'stop';
  let responseModel: string | undefined;
  let error: unknown;
  try {
    for await (const event of dep.adapter.stream({ model: dep.spec.upstream, request, signal })) {
      if (event.type === 'usage') usage = event.usage;
      else if (event.type === 'finish') finish = event.reason;
      else if (event.type === 'model') responseModel = event.model;
      else if (event.type === 'text') generated += event.text.length;
      else if (event.type === 'tool_call')
        generated += (event.arguments?.length ?? 0) + (event.name?.length ?? 0);
      yield event;
    }
  } catch (thrown) {
    const err = asUpstreamError(dep, thrown);
    error = err;
    failSpan(span, errorType(err), err.message);
    throw err;
  } finally {
    // Ended early (client gone, dropped connection) without the provider's usage: charge an estimate
    // of what was generated, so an abandoned stream is never free.
    const charged = usage ?? unreportedUsage(request, generated, error);
    if (!error) finishSpan(span, dep, charged, finish, responseModel);
    account?.add(recordOf(dep, charged, performance.now() - started, error ? statusOf(error) : 200, !usage));
    span.end();
  }
}

const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0 };

/**
 * What a call that ended without the provider's usage is charged. The provider bills a prompt it
 * received whatever happens next, so a call cut off after it was sent — the client left, the deadline
 * passed, no answer in time — is charged the prompt's upper bound and the text generated so far, even
 * before its first chunk (else a client could send long prompts and leave before the answer, for free).
 * A call the provider refused, answered with an error or never received is charged nothing.
 */
function unreportedUsage(request: ChatRequest, generated: number, error: unknown): Usage {
  const cutOff =
    error instanceof UpstreamError && (error.failure === 'aborted' || error.failure === 'timeout');
  return error === undefined || generated > 0 || cutOff ? estimatedUsage(request, generated) : NO_USAGE;
}

/** The ledger status of a failed call: the provider's HTTP status, or 502/504 without one (500: ours). */
export function statusOf(err: unknown): number {
  if (err instanceof UpstreamError) {
    if (err.failure === 'internal') return 500;
    return err.status || (err.failure === 'timeout' ? 504 : 502);
  }
  return 502;
}

/**
 * Logs a call that failed on the gateway's side: the client only hears that it happened, so the
 * operator needs the real text (redacted, without a stack that could quote request data).
 */
export function reportInternal(sink: { onError?: ((err: Error) => void) | undefined }, err: unknown): void {
  if (!(err instanceof InternalUpstreamError)) return;
  const logged = new Error(`upstream call to ${err.provider} failed inside the gateway: ${err.detail}`);
  logged.name = 'InternalUpstreamError';
  logged.stack = `${logged.name}: ${logged.message}`;
  sink.onError?.(logged);
}
