/**
 * Embeddings calls: one upstream call in its `embeddings {model}` client span, charged what the
 * provider reports (or an estimate when it reports nothing), and a model's chain of them with the
 * breakers, queues, retries and fallback every chat call gets.
 */

import type { Usage } from '../../chat/index.ts';
import {
  dimensionsOf,
  type EmbeddingsRequest,
  type EmbedInputs,
  type EmbedResult,
  type EncodingFormat,
  inputTokenRanges,
  likelyInputTokens,
} from '../../embeddings/index.ts';
import { RefusedRequestError, type UpstreamError } from '../../providers/upstream-error.ts';
import {
  ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_ENCODING_FORMATS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_QUORUM_COST_USD,
  ATTR_QUORUM_PROVIDER_ID,
  failSpan,
  GEN_AI_OPERATION_EMBEDDINGS,
  GEN_AI_PROVIDER_NAMES,
  SpanKind,
  tracer,
} from '../../telemetry/index.ts';
import { type CallSink, recordOf } from '../budget/index.ts';
import { type Attempt, costOf, type Deployment } from '../deployments/index.ts';
import type { CallScope } from '../request/index.ts';
import { type CallServices, runChain } from './run-chain.ts';
import { asUpstreamError, errorType, statusOf } from './upstream-call.ts';

/** One embeddings call's request, as the chain passes it to each deployment. */
export interface EmbedRequest {
  request: EmbeddingsRequest;
  inputs: EmbedInputs;
  /** The vectors' form: asked of the provider as the client asked it, so base64 passes straight through. */
  encoding: EncodingFormat;
}

/** What an embeddings call is charged: the provider's count, else the inputs' typical count. */
export interface EmbedOutcome {
  result: EmbedResult;
  usage: Usage;
  deployment: Deployment;
  attempts: Attempt[];
}

/**
 * A call cut off after it was sent (client gone, deadline, no answer in time) is charged the inputs'
 * upper bound, as a chat prompt is: the provider bills what it received. A refused or failed call costs
 * nothing.
 */
function cutOffUsage(inputs: EmbedInputs, err: UpstreamError): Usage {
  const cutOff = err.failure === 'aborted' || err.failure === 'timeout';
  const most = cutOff ? inputTokenRanges(inputs).reduce((n, r) => n + r.most, 0) : 0;
  return { prompt_tokens: most, completion_tokens: 0 };
}

/** One upstream embeddings call inside its client span, its outcome charged to `account`. */
export async function embedOnce(
  dep: Deployment,
  call: EmbedRequest,
  signal: AbortSignal,
  account?: CallSink,
): Promise<{ result: EmbedResult; usage: Usage }> {
  const span = tracer.startSpan(`${GEN_AI_OPERATION_EMBEDDINGS} ${dep.spec.upstream}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_EMBEDDINGS,
      [ATTR_GEN_AI_PROVIDER_NAME]: GEN_AI_PROVIDER_NAMES[dep.provider.type],
      [ATTR_GEN_AI_REQUEST_MODEL]: dep.spec.upstream,
      [ATTR_GEN_AI_REQUEST_ENCODING_FORMATS]: [call.encoding],
      [ATTR_QUORUM_PROVIDER_ID]: dep.provider.id,
    },
  });
  const started = performance.now();
  try {
    if (!dep.adapter.embed) {
      throw new RefusedRequestError(dep.provider.id, 'model', `${dep.provider.type} has no embeddings API`);
    }
    const result = await dep.adapter.embed({
      model: dep.spec.upstream,
      request: call.request,
      inputs: call.inputs,
      encoding: call.encoding,
      signal,
    });
    const reported = result.promptTokens;
    const usage: Usage = { prompt_tokens: reported ?? likelyInputTokens(call.inputs), completion_tokens: 0 };
    span.setAttributes({
      [ATTR_GEN_AI_RESPONSE_MODEL]: result.upstreamModel ?? dep.spec.upstream,
      [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.prompt_tokens,
      [ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT]: result.vectors[0] ? dimensionsOf(result.vectors[0]) : 0,
      [ATTR_QUORUM_COST_USD]: costOf(usage, dep.spec.price),
    });
    account?.add(recordOf(dep, usage, performance.now() - started, 200, reported === undefined));
    return { result, usage };
  } catch (thrown) {
    const err = asUpstreamError(dep, thrown);
    failSpan(span, errorType(err), err.message);
    const charged = cutOffUsage(call.inputs, err);
    account?.add(
      recordOf(dep, charged, performance.now() - started, statusOf(err), charged.prompt_tokens > 0),
    );
    throw err;
  } finally {
    span.end();
  }
}

/** Runs an embeddings request down its chain: the first deployment that answers gives the vectors. */
export async function embedChain(
  services: CallServices,
  chain: Deployment[],
  call: EmbedRequest,
  signals: CallScope,
): Promise<EmbedOutcome> {
  const { value, deployment, attempts } = await runChain(services, chain, signals, async (dep, done) => {
    try {
      return await embedOnce(dep, call, signals.signal, signals);
    } finally {
      done();
    }
  });
  return { ...value, deployment, attempts };
}
