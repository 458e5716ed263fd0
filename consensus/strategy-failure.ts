/**
 * The one way a strategy says "the models could not produce an answer": every candidate failed, the
 * quorum was out of reach, no reviewer returned a readable review, the author's draft failed. It is the
 * models' failure, not the caller's and not a bug, so the gateway answers it as an upstream error (502,
 * or 504 when the deadline passed) and lists `attempts` — never as a 500. A judge, aggregator or
 * reviewer that fails while an answer still exists is not this: the strategy answers and records it
 * in `degraded`.
 */
import type { CallRole } from './types.ts';

/** One call that did not give the strategy what it needed. */
export interface FailedAttempt {
  model: string;
  role: CallRole;
  /** Why: the call's error, or what was wrong with its reply ("unreadable review"). */
  error: string;
}

export class StrategyFailure extends Error {
  /** Every call that failed or was unusable, in the order the strategy made them. */
  readonly attempts: FailedAttempt[];
  /** True when the caller's signal aborted first (deadline or client gone), not the models. */
  readonly aborted: boolean;
  /**
   * How many calls did answer (unusably, or too few). Zero means no model accepted the request at all,
   * which the gateway checks to tell a request every model refused as invalid (the client's 400).
   */
  readonly answered: number;
  /** What could not be done, without the attempts ("no reviewer returned a readable review"). */
  readonly summary: string;

  constructor(
    summary: string,
    attempts: FailedAttempt[],
    options: { aborted?: boolean; answered?: number } = {},
  ) {
    super(attempts.length ? `${summary} (${describeAttempts(attempts)})` : summary);
    this.name = 'StrategyFailure';
    this.summary = summary;
    this.attempts = attempts;
    this.aborted = options.aborted ?? false;
    this.answered = options.answered ?? 0;
  }
}

/** `candidate a: 503 down; judge j: unreadable verdict` — the attempts, for a message. */
export function describeAttempts(attempts: readonly FailedAttempt[]): string {
  return attempts.map((a) => `${a.role} ${a.model}: ${a.error}`).join('; ');
}
