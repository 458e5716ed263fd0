import type { ReviewOptions } from '../../consensus/index.ts';
import { type ChatRequest, memberModel } from '../chat/index.ts';
import { GatewayError } from '../errors/index.ts';
import {
  type Caller,
  type ChatContext,
  chatCompletion,
  type Gateway,
  runReview,
  STATIC_KEY_PREFIX,
} from '../gateway/index.ts';
import { callerFor } from '../server/auth.ts';
import type { LedgerEntry, Store } from '../store/index.ts';
import { priceChat, priceReview } from './call-price.ts';
import { withinCap } from './cap-call.ts';
import { ensembleFields } from './definition/index.ts';
import { StepError } from './engine/execute-step.ts';
import type { RunnerMessage, RunnerRequest, RunnerResult, StepRunner } from './engine/runner.ts';
import { JSON_OBJECT, jsonSchemaFormat } from './response-format.ts';

/**
 * The workflow engine's StepRunner over the gateway's own request path: every step call is a chat
 * request (or, for review steps, the `/v1/reviews` loop) made as the key that started the run, so
 * routing, fallback, fan-out, budgets and rate limits, the ledger and telemetry all apply. The runner's
 * signal is the request's client signal: cancelling a step aborts its upstream calls.
 */

/**
 * The caller a run is charged to: its team, and the key that started it — a stored key's id,
 * `static:<name>` for a static key of the config file, null for the master key and open access.
 */
export type ResolveCaller = (team: string, keyId: string | null) => Promise<Caller>;

/**
 * A gateway refusal that retrying the step cannot fix (over budget, a model that does not exist or is
 * not allowed, an invalid request): fails the step at once with the gateway's own message.
 */
export class GatewayStepError extends StepError {
  readonly code: string;
  readonly status: number;
  constructor(cause: GatewayError) {
    super(cause.message, false);
    this.name = 'GatewayStepError';
    this.code = cause.code;
    this.status = cause.status;
    this.cause = cause;
  }
}

/** Gateway failures worth another attempt (the step's `retry`): upstream trouble and rate limits. */
const RETRYABLE = new Set<GatewayError['kind']>([
  'upstream_failed',
  'upstream_timeout',
  'rate_limit_exceeded',
  'internal_error',
  'not_ready',
  'limits_unavailable',
]);

function stepFailure(err: unknown): unknown {
  return err instanceof GatewayError && !RETRYABLE.has(err.kind) ? new GatewayStepError(err) : err;
}

/** `wf-<run>-<step>-<attempt>`, with the iteration, judge and repair calls told apart for the ledger. */
function requestId(req: RunnerRequest): string {
  let id = `wf-${req.run_id}-${req.step}-${req.attempt}`;
  // A step taken over from a lost worker: its calls are told apart from the first worker's.
  if (req.take !== undefined && req.take > 1) id += `-t${req.take}`;
  if (req.iteration > 1) id += `-i${req.iteration}`;
  if (req.kind === 'judge') id += '-judge';
  else if (req.messages.some((m) => m.role === 'assistant')) id += '-repair';
  return id;
}

export interface GatewayRunnerOptions {
  /**
   * Hand each call's ledger rows back with its result (`RunnerResult.ledger`) instead of appending them
   * to the gateway's ledger; a call that fails still appends its rows there. Set with several instances,
   * where the engine writes them with the run's cost in one transaction.
   */
  captureLedger?: boolean;
}

export function createGatewayRunner(
  gw: Gateway,
  resolveCaller: ResolveCaller,
  options: GatewayRunnerOptions = {},
): StepRunner {
  return {
    async complete(req, signal) {
      const rows: LedgerEntry[] | undefined = options.captureLedger ? [] : undefined;
      try {
        const caller = await resolveCaller(req.team, req.key_id);
        const ctx: ChatContext = {
          requestId: requestId(req),
          caller,
          clientSignal: signal,
          startedAt: performance.now(),
          // The ledger names the run and step of each call, so spend can be read per run (and step).
          attribution: { surface: 'workflow', workflowRun: req.run_id, workflowStep: req.step },
          ...(rows && { ledger: { append: (row: LedgerEntry) => rows.push(row) } }),
        };
        const result = req.kind === 'review' ? await reviewStep(gw, ctx, req) : await chatStep(gw, ctx, req);
        return rows ? { ...result, ledger: rows } : result;
      } catch (err) {
        // Spent and failed: the rows are not the engine's to write, but they are spend all the same.
        for (const row of rows ?? []) gw.ledger?.append(row);
        throw stepFailure(err);
      }
    },
  };
}

/**
 * llm, judge and ensemble: one chat request (ensemble through `quorum.ensemble`, the fan-out path). A
 * JSON step's schema goes upstream as `json_schema` when every model the call can reach supports JSON
 * output (for `auto`, the router only picks such models); otherwise `json_object`.
 */
async function chatStep(gw: Gateway, ctx: ChatContext, req: RunnerRequest): Promise<RunnerResult> {
  const def = req.definition;
  const ensemble =
    req.kind === 'ensemble'
      ? {
          strategy: def.strategy ?? 'consensus',
          ...ensembleFields(def),
          ...(def.quorum !== undefined && { quorum: def.quorum }),
        }
      : undefined;
  let request: ChatRequest = {
    model: ensemble ? memberModel(def.models?.[0] ?? 'auto') : (req.model ?? 'auto'),
    messages: req.messages,
    ...(req.max_tokens !== undefined && { max_tokens: req.max_tokens }),
    ...(req.temperature !== undefined && { temperature: req.temperature }),
    ...(req.json && { response_format: JSON_OBJECT }),
    ...(ensemble && { quorum: { ensemble } }),
  };
  // The judge's reply is its score, not the step's output: only the step's own calls carry the schema.
  if (req.json && req.kind !== 'judge' && def.schema) {
    const structured: ChatRequest = { ...request, response_format: jsonSchemaFormat(req.step, def.schema) };
    const { specs } = priceChat(gw, ctx.caller, structured);
    if (specs.every((s) => s.capabilities.includes('json'))) request = structured;
  }
  const call = async (sent: ChatRequest, spent?: (usd: number) => void) => {
    const reply = await chatCompletion(gw, spent ? { ...ctx, onSpent: spent } : ctx, sent);
    if (reply.stream) throw new GatewayError('internal_error', 'a workflow step got a streamed reply');
    return { text: reply.body.choices[0]?.message.content ?? '', cost_usd: reply.meta.costUsd };
  };
  if (!req.cap) return call(request);
  return withinCap(req.cap, ctx.clientSignal, {
    kind: req.kind,
    request,
    price: (r) => priceChat(gw, ctx.caller, r),
    // A call without max_tokens of its own may be given fewer output tokens, so that it fits the cap.
    maxTokens: {
      set: (maxTokens: number) => ({ ...request, max_tokens: maxTokens }),
      clamp: request.max_tokens === undefined,
    },
    call,
  });
}

/**
 * The engine's review message: `[system], user = "<instructions>\n\n---\n<artifact>[\n---\nFeedback on
 * the previous version: <feedback>]"` (see execute-step.ts). Back to instructions and artifact; the
 * feedback joins the instructions, since the author is to act on it.
 */
const ARTIFACT_SEPARATOR = '\n\n---\n';
const FEEDBACK_MARKER = '\n---\nFeedback on the previous version: ';

export function splitReviewMessages(messages: readonly RunnerMessage[]): {
  instructions: string;
  artifact: string;
} {
  const system = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const user = messages.findLast((m) => m.role === 'user')?.content ?? '';
  const at = user.indexOf(ARTIFACT_SEPARATOR);
  let instructions = at < 0 ? 'Review this.' : user.slice(0, at);
  let artifact = at < 0 ? user : user.slice(at + ARTIFACT_SEPARATOR.length);
  const fb = artifact.lastIndexOf(FEEDBACK_MARKER);
  if (fb >= 0) {
    instructions += `\n\nFeedback on the previous version: ${artifact.slice(fb + FEEDBACK_MARKER.length)}`;
    artifact = artifact.slice(0, fb);
  }
  return { instructions: system ? `${system}\n\n${instructions}` : instructions, artifact };
}

/** review: the consensus review loop, every reviewer and author call through the gateway's call path. */
async function reviewStep(gw: Gateway, ctx: ChatContext, req: RunnerRequest): Promise<RunnerResult> {
  const def = req.definition;
  const { instructions, artifact } = splitReviewMessages(req.messages);
  const options: ReviewOptions = {
    artifact,
    instructions,
    reviewers: def.reviewers ?? [],
    ...(def.author && { author: def.author }),
    ...(def.rounds && { rounds: def.rounds }),
    ...(def.threshold !== undefined && { threshold: def.threshold }),
  };
  if (!options.reviewers.length) {
    throw new GatewayError('invalid_body', `review step "${req.step}" has no reviewers`);
  }
  const review = (spent?: (usd: number) => void) =>
    runReview(gw, spent ? { ...ctx, onSpent: spent } : ctx, options);
  const { result, costUsd: cost } = req.cap
    ? await withinCap(req.cap, ctx.clientSignal, {
        kind: req.kind,
        request: options,
        price: (o) => priceReview(gw, ctx.caller, o),
        call: (_options, spent) => review(spent),
      })
    : await review();
  // The issues raised about the returned (best) draft.
  const issues = result.history?.[result.best_round]?.issues ?? [];
  const approved = result.verdict === 'accept' || result.stopped_by === 'threshold';
  return {
    text: result.artifact,
    cost_usd: cost,
    verdict: {
      approved,
      score: result.score,
      ...(issues.length && { feedback: issues.join('\n') }),
    },
  };
}

/**
 * Resolves a run's caller as the server would have authenticated it: the key from the store (refused
 * once revoked or expired), its team's allow-list, budget and limits from the store or the config.
 */
export function storeCallerResolver(
  store: Pick<Store, 'keys' | 'teams'>,
  config: Pick<Gateway['config'], 'teams'>,
  now: () => number = Date.now,
): ResolveCaller {
  return async (team, keyId) => {
    const configTeam = config.teams.find((t) => t.id === team);
    if (keyId === null || keyId.startsWith(STATIC_KEY_PREFIX)) {
      // A static key is known by its name only (the ledger records the run's calls under it).
      return callerFor(team, configTeam ?? (await store.teams.get(team)) ?? undefined, {
        id: null,
        name: keyId === null ? null : keyId.slice(STATIC_KEY_PREFIX.length),
      });
    }
    const key = await store.keys.get(keyId);
    if (!key)
      throw new GatewayError('invalid_api_key', 'The API key that started this run no longer exists.');
    if (key.revoked_at)
      throw new GatewayError('invalid_api_key', 'The API key that started this run was revoked.');
    if (key.expires_at && Date.parse(key.expires_at) <= now()) {
      throw new GatewayError(
        'invalid_api_key',
        `The API key that started this run expired at ${key.expires_at}.`,
      );
    }
    const settings = (await store.teams.get(key.team)) ?? configTeam;
    return callerFor(key.team, settings, {
      id: key.id,
      name: key.name,
      ...(key.limits && { limits: key.limits }),
    });
  };
}
