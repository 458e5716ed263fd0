/**
 * Fan-out: run every candidate in parallel and collect answers. All candidates share one child
 * AbortController, so reaching the quorum — or the parent signal aborting — cancels whatever is still
 * running, and no more tokens are paid for.
 */
import { StrategyFailure } from './strategy-failure.ts';
import type { CallRole, CandidateRecord, Complete, Completion, CompletionRequest } from './types.ts';

export interface Answer {
  /** Position in the candidate list. */
  index: number;
  completion: Completion;
}

export interface Gathered {
  /** One record per candidate, in candidate order. */
  records: CandidateRecord[];
  /** The answers, in candidate order (not arrival order). */
  answers: Answer[];
}

export const NOT_NEEDED = 'not needed (quorum reached)';
export const UNREACHABLE = 'aborted (quorum unreachable)';

/**
 * Fewer candidates answered than were needed: a StrategyFailure whose attempts are the failed records.
 * `records` keeps every candidate (answered or not) for the record.
 */
export class GatherError extends StrategyFailure {
  readonly records: CandidateRecord[];
  readonly needed: number;
  constructor(records: CandidateRecord[], needed: number, aborted: boolean, role: CallRole = 'candidate') {
    const answered = records.filter((r) => !r.error).length;
    super(
      `${answered} of ${records.length} ${role}s answered, ${needed} needed`,
      records.filter((r) => r.error).map((r) => ({ model: r.model, role, error: r.error! })),
      { aborted, answered },
    );
    this.name = 'GatherError';
    this.records = records;
    this.needed = needed;
  }
}

/**
 * How many answers a fan-out needs: `quorum` when given (clamped to 1..n), else 1. Without a quorum
 * every candidate is awaited, but one answer is enough to reply: a failing candidate never fails the
 * request. With `quorum: k`, k answers are both the early-return point and the minimum.
 */
export function needed(count: number, quorum?: number): number {
  if (quorum === undefined || !Number.isFinite(quorum)) return Math.min(1, count);
  return Math.min(count, Math.max(1, Math.floor(quorum)));
}

/**
 * Calls every model with `request` (or, given one request per model, each with its own: a self-ensemble's
 * samples differ in temperature). Resolves once `quorum` candidates have answered (default: once all
 * have settled), aborting the rest, whose records say 'not needed (quorum reached)'. Failures are
 * recorded, not thrown. Rejects with a GatherError as soon as the needed number can no longer be
 * reached (aborting the rest). If the parent signal aborts, it settles at once: with the answers so far
 * when there are enough, else with a GatherError whose `aborted` is true.
 */
export function gather(
  models: readonly string[],
  request: CompletionRequest | readonly CompletionRequest[],
  complete: Complete,
  signal: AbortSignal,
  quorum?: number,
  /** What the models are for, in a failure's attempts. */
  role: CallRole = 'candidate',
): Promise<Gathered> {
  const need = needed(models.length, quorum);
  const stopAt = quorum === undefined ? models.length : need;
  const child = new AbortController();
  let onParentAbort = () => {};
  const slots: (CandidateRecord | undefined)[] = models.map(() => undefined);
  const completions: (Completion | undefined)[] = models.map(() => undefined);
  let answered = 0;
  let settled = 0;

  return new Promise<Gathered>((resolve, reject) => {
    if (models.length === 0) {
      reject(new GatherError([], 1, false, role));
      return;
    }
    let done = false;
    const finish = (ok: boolean, pendingNote: string) => {
      done = true;
      signal.removeEventListener('abort', onParentAbort);
      const records = models.map((model, i) => slots[i] ?? failed(model, pendingNote));
      if (settled < models.length) child.abort(new AbortError(pendingNote));
      if (ok) {
        const answers: Answer[] = [];
        completions.forEach((completion, index) => {
          if (completion) answers.push({ index, completion });
        });
        resolve({ records, answers });
      } else reject(new GatherError(records, need, signal.aborted, role));
    };
    const check = () => {
      if (done) return;
      if (answered >= stopAt) finish(true, NOT_NEEDED);
      else if (answered + (models.length - settled) < need) finish(false, UNREACHABLE);
      else if (settled === models.length) finish(answered >= need, UNREACHABLE);
    };

    // The parent aborting (deadline, client gone) settles at once, even if a `complete` ignores its signal:
    // enough answers so far still make a reply.
    onParentAbort = () => {
      child.abort(signal.reason);
      if (!done) finish(answered >= need, `aborted (${errorMessage(signal.reason)})`);
    };
    if (signal.aborted) {
      onParentAbort();
      return;
    }
    signal.addEventListener('abort', onParentAbort, { once: true });

    models.forEach((model, i) => {
      // async wrapper: a `complete` that throws synchronously is just another failed candidate.
      const asked = Array.isArray(request) ? request[i]! : (request as CompletionRequest);
      (async () => complete(model, asked, child.signal))().then(
        (completion) => {
          if (done) return;
          settled++;
          answered++;
          completions[i] = completion;
          slots[i] = {
            model: completion.model,
            content: completion.content,
            usage: completion.usage,
            cost_usd: completion.cost_usd,
            latency_ms: completion.latency_ms,
          };
          check();
        },
        (error: unknown) => {
          if (done) return;
          settled++;
          slots[i] = failed(model, errorMessage(error));
          check();
        },
      );
    });
  });
}

function failed(model: string, error: string): CandidateRecord {
  return {
    model,
    content: null,
    usage: { prompt_tokens: 0, completion_tokens: 0 },
    cost_usd: 0,
    latency_ms: 0,
    error,
  };
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : String(error);
}

class AbortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbortError';
  }
}
