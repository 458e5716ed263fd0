import {
  builtinSchemaCompiler,
  type CompiledSchema,
  render,
  type SchemaCompiler,
  type StepDefinition,
  stringify,
  type TemplateContext,
} from '../definition/index.ts';
import { raceAbort, sleep } from './abort.ts';
import type { RunCap } from './cost-cap.ts';
import { parseJsonReply, parseJudgeReply } from './parse-reply.ts';
import type { RunnerKind, RunnerMessage, RunnerRequest, RunnerResult, StepRunner } from './runner.ts';

/**
 * One execution of a model step (llm, ensemble, review): templates rendered, each attempt under its
 * own timeout, retries with doubling backoff, `output: json` parsed and validated with one repair,
 * and the `until` loop with a judge. No store, no scheduling: the engine records what comes back.
 */

export interface ExecuteStepInput {
  runId: string;
  name: string;
  step: StepDefinition;
  /** Inputs and the outputs of the run's steps, as templates read them. */
  context: Omit<TemplateContext, 'feedback'>;
  /** Feedback for the first iteration (a `back_to` or a person); later iterations get the judge's critique. */
  feedback: string | null;
  team: string;
  keyId: string | null;
  runner: StepRunner;
  /** Aborted on cancel, a correction of this step, or the run failing elsewhere. */
  signal: AbortSignal;
  /**
   * Called with the cost of every runner call, as it happens (per-step and run cost, max_cost_usd), and
   * its ledger rows when the runner handed them back; awaited, so the spend is recorded before the step
   * goes on.
   */
  onCost: (usd: number, ledger?: RunnerResult['ledger']) => void | Promise<void>;
  /** Several instances: the worker's take of the step (passed on to the runner). */
  take?: number;
  /** Called with each `until` iteration's verdict, as it comes (the engine records a `step.iteration` event). */
  onIteration?: (verdict: { iteration: number; score: number; critique: string }) => Promise<void> | void;
  /** Called when an attempt starts, so the step's `attempts`/`iterations` are visible while it runs. */
  onProgress?: (progress: { attempt: number; iteration: number }) => void;
  schemaCompiler?: SchemaCompiler;
  /** The run's `max_cost_usd`, held call by call (see runner.ts). */
  cap?: RunCap;
  /**
   * The most UTF-8 bytes the step's rendered messages may have together (the gateway's
   * `server.max_body_bytes`): a template that expands past it fails the step before any call.
   */
  maxPromptBytes?: number;
}

export interface StepOutcome {
  output: unknown;
  iterations: number;
  attempts: number;
  /** Set when the step asks to go back (`back_to`): a review not approved, or `until` never passing. */
  revise?: { feedback: string };
  /** The judge's score of the output, when the step has `until`. */
  score?: number;
  /** Set when `until` ran out of iterations and the step went on with its best draft (`on_exhausted: continue`). */
  exhausted?: boolean;
}

/** A step failure that retrying cannot fix (a template error, a schema that does not compile). */
export class StepError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable = true) {
    super(message);
    this.name = 'StepError';
    this.retryable = retryable;
  }
}

const JUDGE_SYSTEM =
  'You are a strict judge. Score the output from 0 (useless) to 10 (perfect) against the criteria, and ' +
  'write a short, actionable critique of what to improve. Reply with JSON only: {"score": <0-10>, "critique": "<text>"}.';

/**
 * Renders one template field within what is left of the step's byte budget (`budget.left`, reduced by
 * what this field takes). Failing is final: retrying renders the same text again.
 */
function renderOrFail(
  template: string,
  context: TemplateContext,
  field: string,
  budget: { left: number },
): string {
  let text: string;
  try {
    text = render(template, context, { maxBytes: budget.left });
  } catch (err) {
    throw new StepError(`${field}: ${(err as Error).message}`, false);
  }
  budget.left -= Buffer.byteLength(text);
  return text;
}

/** The messages of a step's own call. Review steps get the artifact after the instructions. */
function stepMessages(input: ExecuteStepInput, feedback: string | null): RunnerMessage[] {
  const { step, name } = input;
  const context: TemplateContext = { ...input.context, feedback };
  const max = input.maxPromptBytes ?? Number.POSITIVE_INFINITY;
  const budget = { left: max };
  const messages: RunnerMessage[] = [];
  if (step.system) {
    messages.push({ role: 'system', content: renderOrFail(step.system, context, 'system', budget) });
  }
  let user = step.prompt ? renderOrFail(step.prompt, context, 'prompt', budget) : '';
  if (step.type === 'review') {
    const only = step.needs.length === 1 ? step.needs[0] : undefined;
    const artifact = step.artifact
      ? renderOrFail(step.artifact, context, 'artifact', budget)
      : stringify(only === undefined ? '' : input.context.steps?.[only]?.output);
    user = `${user || 'Review this.'}\n\n---\n${artifact}`;
    if (feedback) user += `\n---\nFeedback on the previous version: ${feedback}`;
  }
  if (user === '') throw new StepError(`step "${name}" has no prompt`, false);
  messages.push({ role: 'user', content: user });
  // The review's artifact and feedback are added outside the templates: the whole is bounded too.
  const total = messages.reduce((sum, m) => sum + Buffer.byteLength(m.content), 0);
  if (total > max) throw tooLarge(step.type === 'review' ? 'artifact' : 'prompt', max);
  return messages;
}

const tooLarge = (field: string, max: number) =>
  new StepError(
    `${field}: the messages expand to more than ${max} bytes (the server.max_body_bytes limit)`,
    false,
  );

export async function executeStep(input: ExecuteStepInput): Promise<StepOutcome> {
  const { step } = input;
  let validate: CompiledSchema | undefined;
  if (step.output === 'json' && step.schema) {
    const compiled = (input.schemaCompiler ?? builtinSchemaCompiler).compile(step.schema);
    if (!compiled.ok) {
      throw new StepError(`schema: ${compiled.problems.map((p) => p.message).join('; ')}`, false);
    }
    validate = compiled.validate;
  }
  const kind: RunnerKind = step.type === 'ensemble' ? 'ensemble' : step.type === 'review' ? 'review' : 'llm';
  let attempts = 0;

  const call = async (
    request: Omit<RunnerRequest, 'run_id' | 'step' | 'definition' | 'team' | 'key_id' | 'cap'>,
    signal: AbortSignal,
  ): Promise<RunnerResult> => {
    const full: RunnerRequest = {
      ...request,
      run_id: input.runId,
      step: input.name,
      definition: step,
      team: input.team,
      key_id: input.keyId,
      ...(input.cap && { cap: input.cap }),
      ...(input.take !== undefined && { take: input.take }),
    };
    const pending = input.runner.complete(full, signal);
    // Ledger rows handed back are recorded even when the step was aborted meanwhile: they were spent.
    pending
      .then((late) =>
        signal.aborted && late.ledger?.length ? input.onCost(costOf(late), late.ledger) : undefined,
      )
      .catch(() => {}); // a failure is the awaited path's to report
    const result = await raceAbort(pending, signal);
    await input.onCost(costOf(result), result.ledger);
    return result;
  };

  /** Runs `once` under the retry policy, each attempt with its own timeout signal. */
  const withRetry = async <T>(once: (signal: AbortSignal, attempt: number) => Promise<T>): Promise<T> => {
    const tries = step.retry?.attempts ?? 1;
    const backoff = step.retry?.backoff_ms ?? 0;
    for (let attempt = 1; ; attempt++) {
      const timeout = step.timeout_ms ? AbortSignal.timeout(step.timeout_ms) : undefined;
      const signal = timeout ? AbortSignal.any([input.signal, timeout]) : input.signal;
      try {
        return await once(signal, attempt);
      } catch (err) {
        if (input.signal.aborted) throw err; // cancelled or superseded: never retry
        const error =
          timeout?.aborted === true ? new StepError(`timed out after ${step.timeout_ms} ms`) : (err as Error);
        if (attempt >= tries || (error instanceof StepError && !error.retryable)) throw error;
        await sleep(backoff * 2 ** (attempt - 1), input.signal);
      }
    }
  };

  /** The step's own call; JSON outputs parsed, validated, and repaired once. */
  const produce = async (feedback: string | null, iteration: number): Promise<unknown> =>
    withRetry(async (signal, attempt) => {
      attempts++;
      input.onProgress?.({ attempt: attempts, iteration });
      const messages = stepMessages(input, feedback);
      const base = {
        kind,
        model: kind === 'llm' ? (step.model ?? 'auto') : undefined,
        max_tokens: step.max_tokens,
        temperature: step.temperature,
        json: step.output === 'json',
        attempt,
        iteration,
      };
      const first = await call({ ...base, messages }, signal);
      if (kind === 'review') {
        const verdict = first.verdict;
        if (verdict && !verdict.approved) revise = verdict.feedback ?? 'The reviewers asked for changes.';
        else revise = undefined;
        return first.text;
      }
      if (step.output !== 'json') return first.text;
      const checked = checkJson(first.text, validate);
      if (checked.ok) return checked.value;
      // One repair: show the model its reply and what is wrong with it.
      const repair = await call(
        {
          ...base,
          messages: [
            ...messages,
            { role: 'assistant', content: first.text },
            {
              role: 'user',
              content: `Your reply is not valid: ${checked.errors.join('; ')}. Reply again with the corrected JSON only.`,
            },
          ],
        },
        signal,
      );
      const repaired = checkJson(repair.text, validate);
      if (repaired.ok) return repaired.value;
      throw new StepError(`invalid JSON output after one repair: ${repaired.errors.join('; ')}`);
    });

  let revise: string | undefined;
  let feedback = input.feedback;
  const until = step.until;
  if (!until || step.type === 'review') {
    const output = await produce(feedback, 1);
    return { output, iterations: 1, attempts, ...(revise !== undefined && { revise: { feedback: revise } }) };
  }

  let best: { output: unknown; score: number } | undefined;
  for (let iteration = 1; ; iteration++) {
    const output = await produce(feedback, iteration);
    const criteria = renderOrFail(until.criteria, { ...input.context, feedback }, 'until.criteria', {
      left: input.maxPromptBytes ?? Number.POSITIVE_INFINITY,
    });
    const verdict = await withRetry(async (signal, attempt) => {
      const reply = await call(
        {
          kind: 'judge',
          model: until.judge,
          json: true,
          attempt,
          iteration,
          messages: [
            { role: 'system', content: JUDGE_SYSTEM },
            { role: 'user', content: `Criteria: ${criteria}\n\nOutput:\n${stringify(output)}` },
          ],
        },
        signal,
      );
      const parsed = parseJudgeReply(reply.text);
      if (!parsed) throw new StepError(`the judge's reply has no score: ${reply.text.slice(0, 200)}`);
      return parsed;
    });
    await input.onIteration?.({ iteration, score: verdict.score, critique: verdict.critique });
    if (verdict.score >= until.min_score)
      return { output, iterations: iteration, attempts, score: verdict.score };
    if (!best || verdict.score > best.score) best = { output, score: verdict.score };
    feedback = verdict.critique || `Scored ${verdict.score}/10 against: ${criteria}`;
    if (iteration >= until.max_iterations) {
      if (step.back_to) {
        return { output, iterations: iteration, attempts, score: verdict.score, revise: { feedback } };
      }
      if (until.on_exhausted === 'continue') {
        return { output: best.output, iterations: iteration, attempts, score: best.score, exhausted: true };
      }
      throw new StepError(
        `until: no draft scored ${until.min_score} within ${until.max_iterations} iteration(s) (best ${best.score}); ` +
          'raise until.max_iterations, lower until.min_score, or set until.on_exhausted: continue to go on with the best draft',
        false,
      );
    }
  }
}

const costOf = (result: RunnerResult) =>
  Number.isFinite(result.cost_usd) && result.cost_usd > 0 ? result.cost_usd : 0;

function checkJson(
  text: string,
  validate: CompiledSchema | undefined,
): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  const parsed = parseJsonReply(text);
  if (!parsed.ok) return { ok: false, errors: [parsed.error] };
  if (!validate) return parsed;
  const result = validate(parsed.value);
  return result.ok ? parsed : { ok: false, errors: result.errors };
}
