import type { LedgerEntry } from '../../store/index.ts';
import type { StepDefinition } from '../definition/index.ts';
import type { RunCap } from './cost-cap.ts';

/**
 * The seam between the engine and model work. The gateway implements it over its own request path (so
 * routing, fallback, consensus, budgets and telemetry apply to every step); tests use a scripted fake.
 */

export interface RunnerMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * `llm`, `ensemble` and `review` run a step of that type; `judge` scores a step's output for `until`
 * (the reply should be `{"score": 0..10, "critique": "…"}`).
 */
export type RunnerKind = 'llm' | 'ensemble' | 'review' | 'judge';

export interface RunnerRequest {
  kind: RunnerKind;
  run_id: string;
  /** The step's name and definition (ensemble `strategy`/`models`/`judge`, review `reviewers`/`author`/`rounds`/`threshold`). */
  step: string;
  definition: StepDefinition;
  /** Rendered prompts; a repair or a judge call carries the whole exchange. */
  messages: RunnerMessage[];
  /** `llm`: the step's model (default `auto`); `judge`: `until.judge`; otherwise the step's own fields decide. */
  model?: string;
  max_tokens?: number;
  temperature?: number;
  /** Ask for a JSON reply (`output: json`, judge calls). */
  json?: boolean;
  /** Who is charged: the run's team and key. */
  team: string;
  key_id: string | null;
  /** 1-based: the retry attempt and the `until` iteration this call belongs to. */
  attempt: number;
  iteration: number;
  /** Several instances: which worker's take of the step this call belongs to (2 after a takeover). */
  take?: number;
  /**
   * The run's `max_cost_usd`, when it has one: the runner holds each call's worst case against it
   * before making the call and settles the hold with what the call cost, so the run never spends past
   * the cap; a call the cap cannot cover fails the step without being made.
   */
  cap?: RunCap;
}

export interface ReviewVerdict {
  /** false: the reviewers want changes (a `back_to` sends the run back with `feedback`). */
  approved: boolean;
  score?: number;
  feedback?: string;
}

export interface RunnerResult {
  /** The model's reply; for `review`, the reviewed (possibly revised) artifact. */
  text: string;
  cost_usd: number;
  /** `review` only; absent means approved. */
  verdict?: ReviewVerdict;
  /**
   * The call's ledger rows, when the runner hands them to the engine instead of the ledger (several
   * instances: the engine writes them with the run's cost in one transaction).
   */
  ledger?: LedgerEntry[];
}

export interface StepRunner {
  /** Must reject promptly once `signal` aborts (cancel, timeout, a person's correction). */
  complete(request: RunnerRequest, signal: AbortSignal): Promise<RunnerResult>;
}
