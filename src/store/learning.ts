/**
 * What the router learnt, shared by every instance on one database: per model and category, the decayed
 * sums of observed scores and weights; the operator's freeze and resets; and who answered each recent
 * request (so feedback finds its model whichever instance served it). The learner (src/learning) calls
 * this off the request path only: in its batches, its refreshes and the feedback endpoint.
 */
import { sql, type Transaction } from 'kysely';
import { type BulkTable, insertRows } from './bulk-insert.ts';
import type { StoreContext } from './context.ts';
import type { Database, LearnedQualityTable, LearningSubjectsTable } from './types.ts';

export type LearnedRow = LearnedQualityTable;

/** The scope of a freeze or a reset of every model. */
export const ALL_MODELS = '*';

export interface LearningControl {
  /** When learning was frozen, or null. */
  frozenAt: number | null;
  /** Reset times by scope (`*` or a model id): observations made before are not counted. */
  resets: Map<string, number>;
}

/** One request's answerer, for feedback (the feedback's score and comment are written, never read back). */
export type SubjectRow = Omit<LearningSubjectsTable, 'feedback_score' | 'feedback_comment'>;

/** A new answer under an id already there clears the feedback the old one had. */
const SUBJECTS: BulkTable<SubjectRow> = {
  table: 'learning_subjects',
  columns: ['request_id', 'team_id', 'model', 'category', 'created_at', 'feedback_at'],
  conflict:
    'on conflict (request_id) do update set team_id = excluded.team_id, model = excluded.model, category = excluded.category, created_at = excluded.created_at, feedback_at = null, feedback_score = null, feedback_comment = null',
};

/** One observation of a model in a category; `feedback` marks the subject, and counts only the first time. */
export interface ObservationRow {
  model: string;
  category: string;
  /** The score, 0..1. */
  value: number;
  weight: number;
  /** When it was observed (epoch ms). */
  at: number;
  feedback?: { requestId: string; team: string; score: number; comment: string | null };
}

/** Comments are a person's words about an answer: bounded, and without NUL (Postgres refuses it). */
const COMMENT_MAX = 2000;
const clean = (text: string | null) =>
  text === null ? null : text.replaceAll('\0', '').slice(0, COMMENT_MAX);

export class LearningRepo {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Every estimate and the operator's control, for a refresh. */
  async load(): Promise<{ rows: LearnedRow[]; control: LearningControl }> {
    const db = this.#ctx.db;
    const rows = await db.selectFrom('learned_quality').selectAll().execute();
    return { rows: rows.map(numeric), control: await readControl(db) };
  }

  /**
   * Adds a batch in one transaction: nothing observed after a freeze, nothing observed before a reset of its
   * model, a feedback only if it is its request's first; then, per model and category, the sums decayed
   * to `now` (the stored row decayed from its own time to `now` in the same statement, so instances
   * adding at once never lose each other's batches).
   */
  async record(observations: readonly ObservationRow[], now: number, halfLifeMs: number): Promise<void> {
    if (!observations.length) return;
    await this.#transaction(async (trx) => {
      const control = await readControl(trx);
      // While frozen, what was observed before the freeze still counts (as of the freeze); the rest not.
      const frozenAt = control.frozenAt;
      const until = frozenAt ?? now;
      const sums = new Map<string, { model: string; category: string; s: number; n: number }>();
      for (const o of observations) {
        const reset = Math.max(control.resets.get(ALL_MODELS) ?? -1, control.resets.get(o.model) ?? -1);
        if (o.at <= reset || (frozenAt !== null && o.at >= frozenAt)) continue;
        // One odd value must not fail (and so hold back) the whole batch.
        if (!(o.value >= 0 && o.value <= 1 && o.weight > 0 && Number.isFinite(o.weight))) continue;
        if (o.feedback && !(await markFeedback(trx, o.feedback, o.at))) continue;
        const w = o.weight * 0.5 ** (Math.max(0, until - o.at) / halfLifeMs);
        const key = `${o.model}\u0000${o.category}`;
        const sum = sums.get(key) ?? { model: o.model, category: o.category, s: 0, n: 0 };
        sum.s += w * o.value;
        sum.n += w;
        sums.set(key, sum);
      }
      const perMs = 1 / halfLifeMs;
      const later = this.#ctx.engine === 'postgres' ? sql.raw('greatest') : sql.raw('max');
      const age = sql`${later}(0, excluded.updated_at - learned_quality.updated_at) * cast(${perMs} as double precision)`;
      for (const { model, category, s, n } of sums.values()) {
        await trx
          .insertInto('learned_quality')
          .values({ model, category, successes: s, trials: n, updated_at: until })
          .onConflict((oc) =>
            oc.columns(['model', 'category']).doUpdateSet({
              successes: sql`learned_quality.successes * power(0.5, ${age}) + excluded.successes`,
              trials: sql`learned_quality.trials * power(0.5, ${age}) + excluded.trials`,
              updated_at: sql`${later}(learned_quality.updated_at, excluded.updated_at)`,
            }),
          )
          .execute();
      }
    });
  }

  /** Forgets what was learnt about one model (or every model, `*`) and ignores older observations still on their way. */
  async reset(scope: string, now: number): Promise<void> {
    await this.#transaction(async (trx) => {
      let deletion = trx.deleteFrom('learned_quality');
      if (scope !== ALL_MODELS) deletion = deletion.where('model', '=', scope);
      await deletion.execute();
      await trx
        .insertInto('learning_control')
        .values({ scope, frozen_at: null, reset_at: now })
        .onConflict((oc) => oc.column('scope').doUpdateSet({ reset_at: now }))
        .execute();
    });
  }

  /** Freezes learning (a second freeze keeps the first one's time). */
  async freeze(now: number): Promise<void> {
    await this.#ctx.db
      .insertInto('learning_control')
      .values({ scope: ALL_MODELS, frozen_at: now, reset_at: null })
      .onConflict((oc) =>
        oc.column('scope').doUpdateSet({ frozen_at: sql`coalesce(learning_control.frozen_at, ${now})` }),
      )
      .execute();
  }

  /** Unfreezes: every estimate's time moves on by the frozen span, so nothing decayed while it was held. */
  async unfreeze(now: number): Promise<void> {
    await this.#transaction(async (trx) => {
      const { frozenAt } = await readControl(trx);
      if (frozenAt === null) return;
      const held = Math.max(0, now - frozenAt);
      await trx
        .updateTable('learned_quality')
        .set({ updated_at: sql`updated_at + ${held}` })
        .execute();
      await trx
        .updateTable('learning_control')
        .set({ frozen_at: null })
        .where('scope', '=', ALL_MODELS)
        .execute();
    });
  }

  /** Records who answered requests (a request id seen again — a re-run workflow step — takes the newer answer). */
  async putSubjects(rows: readonly SubjectRow[]): Promise<void> {
    // One row per id (the newest): Postgres refuses an upsert that would change one row twice.
    const newest = new Map<string, SubjectRow>();
    for (const r of rows) newest.set(r.request_id, r);
    await insertRows(this.#ctx, SUBJECTS, [...newest.values()]);
  }

  async findSubject(requestId: string): Promise<SubjectRow | undefined> {
    const row = await this.#ctx.db
      .selectFrom('learning_subjects')
      .select(['request_id', 'team_id', 'model', 'category', 'created_at', 'feedback_at'])
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return row ? subject(row) : undefined;
  }

  /** Subjects whose request id starts with `prefix`, newest first (a workflow step's calls). */
  async findByPrefix(prefix: string, limit = 50): Promise<SubjectRow[]> {
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.#ctx.db
      .selectFrom('learning_subjects')
      .select(['request_id', 'team_id', 'model', 'category', 'created_at', 'feedback_at'])
      .where(sql<boolean>`request_id like ${pattern} escape '\\'`)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(subject);
  }

  /** Forgets requests answered before `before` (feedback on them is no longer taken). */
  async sweepSubjects(before: number): Promise<number> {
    const result = await this.#ctx.db
      .deleteFrom('learning_subjects')
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  #transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#ctx.db.transaction().execute(fn);
  }
}

type Reader = Pick<Transaction<Database>, 'selectFrom'>;

async function readControl(db: Reader): Promise<LearningControl> {
  const rows = await db.selectFrom('learning_control').selectAll().execute();
  const control: LearningControl = { frozenAt: null, resets: new Map() };
  for (const r of rows) {
    if (r.scope === ALL_MODELS && r.frozen_at !== null) control.frozenAt = Number(r.frozen_at);
    if (r.reset_at !== null) control.resets.set(r.scope, Number(r.reset_at));
  }
  return control;
}

/** The first feedback on a request marks it; false when it was already marked (or is unknown). */
async function markFeedback(
  trx: Transaction<Database>,
  feedback: NonNullable<ObservationRow['feedback']>,
  at: number,
): Promise<boolean> {
  const result = await trx
    .updateTable('learning_subjects')
    .set({ feedback_at: at, feedback_score: feedback.score, feedback_comment: clean(feedback.comment) })
    .where('request_id', '=', feedback.requestId)
    .where('team_id', '=', feedback.team)
    .where('feedback_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Postgres returns bigint columns as strings. */
function numeric(row: LearnedRow): LearnedRow {
  return {
    ...row,
    successes: Number(row.successes),
    trials: Number(row.trials),
    updated_at: Number(row.updated_at),
  };
}

function subject(row: SubjectRow): SubjectRow {
  return {
    ...row,
    created_at: Number(row.created_at),
    feedback_at: row.feedback_at === null ? null : Number(row.feedback_at),
  };
}
