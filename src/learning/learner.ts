/**
 * The learner: the gateway's LearningHook. On the request path it only notes what happened (a fan-out's
 * signals are read from its record, its candidates annotated, and the observations added in memory);
 * everything else — a single answer's category and schema check, the store — happens after. Observations
 * and subjects are written in batches (the ledger's writer); every `refresh_seconds` each instance
 * writes what it has and reads back what every instance learnt, so the store is the truth and every
 * instance's router follows it. Without a store it learns in memory alone.
 */
import { taskCategories } from '../../routing/analyze.ts';
import { topCategory } from '../../routing/categorize.ts';
import type { Category, ModelSpec } from '../../routing/types.ts';
import type { GatewayConfig } from '../config/index.ts';
import { GatewayError } from '../errors/index.ts';
import type { AnsweredRequest, LearningHook, QualityEstimate, ReviewedRequest } from '../gateway/index.ts';
import {
  ALL_MODELS,
  type LearningRepo,
  LedgerWriter,
  type ObservationRow,
  type SubjectRow,
} from '../store/index.ts';
import { QualityBook } from './book.ts';
import { DAY_MS, type LearningSettings } from './estimate.ts';
import { breaksSchema, requestedSchema } from './schema-check.ts';
import { fanOutSignals, roundScore, type SignalName } from './signals.ts';
import { type Subject, Subjects, toRow } from './subjects.ts';

export interface LearnerOptions {
  /** The shared store; absent: learning lives in this process only. */
  repo?: LearningRepo;
  /** Clock in epoch ms (tests move it to age observations). */
  now?: () => number;
  /** Background failures (a write or a refresh that failed; both are retried). */
  onError?: (err: unknown) => void;
}

/** What a feedback did. */
export interface FeedbackOutcome {
  object: 'feedback';
  request_id: string;
  model: string;
  category: Category;
  score: number;
  /**
   * `accepted`: counted (unless another instance counted one on the same request first); `frozen`:
   * learning is frozen, nothing was counted; `ignored`: the model is no longer in the catalog.
   */
  status: 'accepted' | 'frozen' | 'ignored';
}

/** One fan-out candidate's part in learning, as its record shows it. */
export interface LearningEntry {
  signal: SignalName;
  value: number;
  category: Category;
}

/** Rows a batch writes at most (bounded like the ledger's). */
const BATCH = 500;
/** Rows held while the store does not answer; past it new observations are kept in memory only. */
const MAX_UNWRITTEN = 50_000;
const SWEEP_EVERY_MS = 3_600_000;

type Pending = { kind: 'answer'; answer: AnsweredRequest } | { kind: 'review'; review: ReviewedRequest };

export class Learner implements LearningHook {
  readonly book: QualityBook;
  readonly #config: GatewayConfig['routing']['learning'];
  readonly #repo: LearningRepo | undefined;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  readonly #subjects: Subjects;
  readonly #subjectWriter: LedgerWriter<SubjectRow> | undefined;
  readonly #observationWriter: LedgerWriter<ObservationRow> | undefined;
  /** Observations not yet in the store: seen again after a refresh replaces the picture. */
  readonly #unwritten = new Set<ObservationRow>();
  /** Written while a refresh was reading (the read may have missed them). */
  #writtenDuringLoad: ObservationRow[] | null = null;
  #pending: Pending[] = [];
  #drainScheduled = false;
  #timer: NodeJS.Timeout | null = null;
  #refreshing: Promise<void> | null = null;
  #lastSweep = 0;

  constructor(config: GatewayConfig, options: LearnerOptions = {}) {
    const learning = config.routing.learning;
    this.#config = learning;
    const settings: LearningSettings = {
      minObservations: learning.min_observations,
      halfLifeMs: learning.half_life_days * DAY_MS,
      priorStrength: learning.prior_strength,
    };
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    this.#repo = options.repo;
    this.book = new QualityBook(config.models, settings, this.#now);
    const repo = this.#repo;
    if (repo) {
      const writer = {
        batchSize: BATCH,
        flushIntervalMs: 1000,
        maxBuffered: MAX_UNWRITTEN,
        onError: this.#onError,
      };
      this.#subjectWriter = new LedgerWriter((rows) => repo.putSubjects(rows), writer);
      this.#observationWriter = new LedgerWriter((rows) => this.#write(rows), writer);
    }
    const subjectWriter = this.#subjectWriter;
    this.#subjects = new Subjects(repo, () => subjectWriter?.unwritten ?? []);
  }

  /** Reads the store's picture, then refreshes it every `refresh_seconds` (off the request path). */
  async start(): Promise<void> {
    if (!this.#repo) return;
    // Set first: a store that cannot be read now is tried again at the next refresh.
    this.#timer = setInterval(() => {
      this.refresh().catch(this.#onError);
    }, this.#config.refresh_seconds * 1000);
    this.#timer.unref();
    await this.refresh();
  }

  /** Stops refreshing and writes what is left. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#drain();
    await this.#subjectWriter?.close();
    await this.#observationWriter?.close();
  }

  /** Writes what this instance learnt so far. */
  async flush(): Promise<void> {
    this.#drain();
    await this.#subjectWriter?.flush();
    await this.#observationWriter?.flush();
  }

  /** Writes, then reads back every instance's estimates and the operator's freeze; sweeps old subjects hourly. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const repo = this.#repo;
    if (!repo) return;
    await this.flush();
    // A batch written while the read runs may be missing from it: it is observed again below.
    const missed: ObservationRow[] = [];
    this.#writtenDuringLoad = missed;
    let loaded: Awaited<ReturnType<LearningRepo['load']>>;
    try {
      loaded = await repo.load();
    } finally {
      this.#writtenDuringLoad = null;
    }
    this.book.replace(loaded.rows, loaded.control.frozenAt);
    for (const o of [...this.#unwritten, ...missed]) {
      this.book.observe(o.model, o.category as Category, o.value, o.weight);
    }
    const now = this.#now();
    if (now - this.#lastSweep >= SWEEP_EVERY_MS) {
      this.#lastSweep = now;
      await repo.sweepSubjects(now - this.#config.feedback_window_days * DAY_MS);
    }
  }

  async #write(rows: ObservationRow[]): Promise<void> {
    // A feedback marks its subject: the subject must be there first.
    await this.#subjectWriter?.flush();
    await this.#repo!.record(rows, this.#now(), this.book.settings.halfLifeMs);
    for (const row of rows) this.#unwritten.delete(row);
    this.#writtenDuringLoad?.push(...rows);
  }

  // ---- LearningHook ------------------------------------------------------------------------------

  models(): readonly ModelSpec[] {
    return this.book.models();
  }

  estimates(model: string): Readonly<Record<Category, QualityEstimate>> | undefined {
    return this.book.estimates(model);
  }

  answered(answer: AnsweredRequest): void {
    // A fan-out's candidates are annotated now, before the record goes out.
    if (!answer.cached && typeof answer.record.strategy === 'string') {
      const category = categoryOf(answer);
      this.#learnFanOut(answer, category);
      this.#remember(answer.requestId, answer.team, answer.model, category);
      return;
    }
    this.#enqueue({ kind: 'answer', answer });
  }

  reviewed(review: ReviewedRequest): void {
    this.#enqueue({ kind: 'review', review });
  }

  // ---- feedback, corrections, the operator -----------------------------------------------------------

  /** POST /v1/feedback: the team's own recent request, first feedback only. */
  async feedback(
    team: string,
    requestId: string,
    score: number,
    comment: string | null,
  ): Promise<FeedbackOutcome> {
    this.#drain();
    const subject = await this.#subjects.find(requestId);
    const window = this.#config.feedback_window_days * DAY_MS;
    // Another team's request is as unknown as one that never was: its existence is not theirs to learn.
    if (!subject || subject.team !== team || subject.at < this.#now() - window) {
      throw new GatewayError(
        'not_found',
        `No request \`${requestId}\` of this team answered in the last ${this.#config.feedback_window_days} days is known. Use the x-quorum-request-id header (or quorum.request_id) of a chat answer.`,
        { param: 'request_id' },
      );
    }
    // Another instance may have counted one since this one remembered the request.
    if (subject.feedbackAt === null && this.#repo) {
      subject.feedbackAt = (await this.#repo.findSubject(requestId))?.feedback_at ?? null;
    }
    if (subject.feedbackAt !== null) {
      throw new GatewayError(
        'conflict',
        `Feedback on request \`${requestId}\` was already recorded; only the first counts.`,
        {
          param: 'request_id',
        },
      );
    }
    const counted = this.#observeSubject(subject, score, 'feedback', comment);
    return {
      object: 'feedback',
      request_id: requestId,
      model: subject.model,
      category: subject.category,
      score,
      status: counted ? 'accepted' : this.book.frozenAt !== null ? 'frozen' : 'ignored',
    };
  }

  /**
   * A workflow run's event (the engine's `onEvent`): a person's correction of a step (`step.edited`)
   * says the step's model was wrong. Never throws; a correction that cannot be counted is reported.
   */
  onRunEvent(event: { type: string; run_id: string; step?: string | undefined }): void {
    if (event.type !== 'step.edited' || !event.step) return;
    this.corrected(event.run_id, event.step).catch(this.#onError);
  }

  /** A person corrected a workflow step's output: the model that wrote it was wrong. */
  async corrected(runId: string, step: string): Promise<void> {
    this.#drain();
    const subject = await this.#subjects.latestOfStep(runId, step);
    if (subject && subject.feedbackAt === null) this.#observeSubject(subject, 0, 'correction', null);
  }

  async freeze(): Promise<void> {
    // What was observed before the freeze is written first: it counts.
    await this.flush();
    const now = this.#now();
    await this.#repo?.freeze(now);
    this.book.freeze(now);
  }

  async unfreeze(): Promise<void> {
    const now = this.#now();
    await this.#repo?.unfreeze(now);
    this.book.unfreeze(now);
  }

  /** Forgets one model's learning (or every model's, `null`): back to the catalog's quality. */
  async reset(model: string | null): Promise<void> {
    const now = this.#now();
    await this.flush();
    await this.#repo?.reset(model ?? ALL_MODELS, now);
    for (const o of this.#unwritten) if (model === null || o.model === model) this.#unwritten.delete(o);
    this.book.reset(model);
  }

  /** GET /admin/quality. */
  status() {
    const frozenAt = this.book.frozenAt;
    const models: { model: string; categories: Record<Category, QualityEstimate> }[] = [];
    for (const spec of this.book.models()) {
      if (models.some((m) => m.model === spec.id)) continue;
      models.push({ model: spec.id, categories: this.book.estimates(spec.id)! });
    }
    return {
      enabled: true,
      frozen: frozenAt !== null,
      frozen_at: frozenAt === null ? null : new Date(frozenAt).toISOString(),
      settings: {
        min_observations: this.#config.min_observations,
        half_life_days: this.#config.half_life_days,
        prior_strength: this.#config.prior_strength,
      },
      models,
    };
  }

  // ---- internals ------------------------------------------------------------------------------------

  #observe(model: string, category: Category, value: number, feedback?: ObservationRow['feedback']): boolean {
    if (!this.book.observe(model, category, value)) return false;
    if (this.#observationWriter && this.#unwritten.size < MAX_UNWRITTEN) {
      const row: ObservationRow = {
        model,
        category,
        value,
        weight: 1,
        at: this.#now(),
        ...(feedback ? { feedback } : {}),
      };
      this.#unwritten.add(row);
      this.#observationWriter.append(row);
    }
    return true;
  }

  #observeSubject(
    subject: Subject,
    score: number,
    signal: 'feedback' | 'correction',
    comment: string | null,
  ): boolean {
    const counted = this.#observe(subject.model, subject.category, score, {
      requestId: subject.requestId,
      team: subject.team,
      score,
      comment: comment ?? (signal === 'correction' ? 'workflow step corrected' : null),
    });
    if (counted) subject.feedbackAt = this.#now();
    return counted;
  }

  #remember(requestId: string, team: string, model: string, category: Category): void {
    const subject: Subject = { requestId, team, model, category, at: this.#now(), feedbackAt: null };
    // With a store the subject waits in the writer until written and is looked up there or in the
    // store; memory keeps it only without one, or when the writer had to drop it.
    if (!this.#subjectWriter?.append(toRow(subject))) this.#subjects.remember(subject);
  }

  #learnFanOut(answer: AnsweredRequest, category: Category): void {
    const record = answer.record;
    const candidates = Array.isArray(record.candidates)
      ? (record.candidates as Record<string, unknown>[])
      : [];
    const signals = new Map(fanOutSignals(record).map((s) => [s.index, s]));
    // An answer that breaks its schema is wrong whatever the vote said.
    const schema = requestedSchema(answer.request);
    if (schema) {
      candidates.forEach((c, index) => {
        if (c.error !== undefined || c.role === 'aggregator' || typeof c.content !== 'string') return;
        if (breaksSchema(schema, c.content)) {
          signals.set(index, { index, model: String(c.model), signal: 'schema_failure', value: 0 });
        }
      });
    }
    for (const s of signals.values()) {
      const candidate = candidates[s.index];
      if (!candidate || !this.#observe(s.model, category, s.value)) continue;
      const entry: LearningEntry = { signal: s.signal, value: s.value, category };
      candidate.learning = entry;
    }
  }

  #enqueue(item: Pending): void {
    this.#pending.push(item);
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(() => this.#drain());
  }

  /** The queued answers and reviews: their categories, schema checks and review scores. */
  #drain(): void {
    this.#drainScheduled = false;
    const items = this.#pending;
    if (!items.length) return;
    this.#pending = [];
    for (const item of items) {
      try {
        if (item.kind === 'answer') this.#learnAnswer(item.answer);
        else this.#learnReview(item.review);
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  #learnAnswer(answer: AnsweredRequest): void {
    const category = categoryOf(answer);
    this.#remember(answer.requestId, answer.team, answer.model, category);
    if (answer.cached || typeof answer.text !== 'string') return;
    const schema = requestedSchema(answer.request);
    if (schema && breaksSchema(schema, answer.text)) this.#observe(answer.model, category, 0);
  }

  #learnReview(review: ReviewedRequest): void {
    const category = topCategory(taskCategories({ messages: [{ role: 'user', content: review.text }] }));
    this.#remember(review.requestId, review.team, review.author, category);
    // Round 1 reviewed the artifact as given; later rounds the author's revisions.
    const score = roundScore(review.reviews, (r) => r >= 2);
    if (score !== null) this.#observe(review.author, category, Math.min(1, Math.max(0, score / 10)));
  }
}

function categoryOf(answer: AnsweredRequest): Category {
  return topCategory(answer.task?.categories ?? taskCategories(answer.request));
}
