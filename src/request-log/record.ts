/**
 * The request log's record as the API shows it (GET /v1/requests, /v1/requests/{id}, the live tail),
 * and the map from a stored row to it. Lists and the tail show the summary; one request shows the
 * whole record: its attempts, the route decision, a fan-out's panel and — only while content logging
 * is on — the prompt and answer text.
 */
import { usdOfNanos } from '../limits/nanos.ts';
import type { RequestLogRow, RequestLogSummaryRow } from '../store/index.ts';

/** Each proxied endpoint, by the name records and filters use. */
export const SURFACES = {
  '/v1/chat/completions': 'chat.completions',
  '/v1/consensus': 'consensus',
  '/v1/reviews': 'reviews',
  '/v1/responses': 'responses',
  '/v1/messages': 'messages',
  '/v1/messages/count_tokens': 'messages.count_tokens',
  '/v1/embeddings': 'embeddings',
} as const;

export type Surface = (typeof SURFACES)[keyof typeof SURFACES];

export const SURFACE_NAMES: readonly Surface[] = Object.values(SURFACES);

const PATH_OF = Object.fromEntries(Object.entries(SURFACES).map(([path, name]) => [name, path])) as Record<
  Surface,
  string
>;

/** The surface a request path is, or undefined for one the log does not record. */
export function surfaceOf(path: string): Surface | undefined {
  return Object.hasOwn(SURFACES, path) ? SURFACES[path as keyof typeof SURFACES] : undefined;
}

/** One try at one deployment. */
export interface AttemptView {
  model: string;
  provider: string;
  status: number;
  error?: string;
  latency_ms: number;
}

/** A fan-out's panel: every candidate, how they agreed, which answer was taken and why. */
export interface PanelView {
  strategy: string;
  candidates: {
    model: string;
    cost_usd: number;
    latency_ms: number;
    usage?: unknown;
    score?: number;
    error?: string;
    /** Only while content logging is on. */
    content?: string;
  }[];
  agreement?: number;
  /** Which candidates agreed; each group's answer only while content logging is on. */
  groups?: { members?: unknown; answer?: string }[];
  selected?: { index: number; model: string };
  judge?: { model: string; rationale: string };
  degraded?: string[];
  /** The review strategy's verdict and reviews (each review's issues only while content logging is on). */
  review?: unknown;
  /** A fusion's analysis, only while content logging is on (it quotes the candidates). */
  analysis?: unknown;
}

/** What `detail` holds (JSON). */
export interface RecordDetail {
  attempts: AttemptView[];
  route?: unknown;
  panel?: PanelView;
  /** POST /v1/reviews: the verdict, the score, the rounds and each review. */
  review?: unknown;
}

/**
 * What `content` holds (JSON): the prompt in the surface's own shape, the answer's text and a fan-out's
 * candidate answers (by index) — all the text, so erasing this column erases every word of it.
 */
export interface RecordContent {
  prompt: unknown;
  answer: string | null;
  candidates?: (string | null)[];
  /** The panel's groups' (normalised) answers, by index. */
  groups?: (string | null)[];
  /** The issues each review raised, by index (POST /v1/reviews, or the review strategy's). */
  issues?: unknown[];
  /** A fusion's analysis: it quotes the candidates, so it is content. */
  analysis?: unknown;
  /** Something was cut to keep the record bounded. */
  truncated?: boolean;
}

export function summaryView(row: RequestLogSummaryRow) {
  const surface = row.surface as Surface;
  return {
    object: 'request' as const,
    id: row.id,
    created_at: new Date(row.created_at).toISOString(),
    surface,
    path: PATH_OF[surface] ?? null,
    team: row.team_id,
    key_id: row.key_id,
    key_name: row.key_name,
    model: row.model,
    models: row.models ? row.models.split(',') : [],
    status: row.status,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    stream: row.stream === 1,
    cache: row.cache,
    tags: row.tags ? (JSON.parse(row.tags) as Record<string, string>) : null,
    usage: { input_tokens: row.input_tokens, output_tokens: row.output_tokens },
    cost_usd: usdOfNanos(row.cost_nanos),
    latency_ms: row.latency_ms,
    overhead_ms: row.overhead_ms,
  };
}

export type RequestSummary = ReturnType<typeof summaryView>;

/** The whole record; `content` (and the panel's answers) only while the operator has content logging on. */
export function recordView(row: RequestLogRow, showContent: boolean) {
  const detail = row.detail ? (JSON.parse(row.detail) as RecordDetail) : { attempts: [] };
  const content = showContent && row.content ? (JSON.parse(row.content) as RecordContent) : null;
  const { candidates, groups, issues, analysis, ...text } = content ?? {};
  const panel = detail.panel ? withAnswers(detail.panel, candidates, groups) : null;
  if (panel?.review !== undefined) panel.review = withIssues(panel.review, issues);
  if (panel && analysis !== undefined) panel.analysis = analysis;
  return {
    ...summaryView(row),
    attempts: detail.attempts,
    route: detail.route ?? null,
    panel,
    review: detail.review === undefined ? null : withIssues(detail.review, issues),
    content: content ? (text as Omit<RecordContent, 'candidates' | 'groups' | 'issues' | 'analysis'>) : null,
  };
}

/** A review with each reviewer's issues put back (while content logging is on). */
function withIssues(review: unknown, issues: unknown[] | undefined): unknown {
  const r = review as { reviews?: Record<string, unknown>[] } | null;
  if (!issues || !r || !Array.isArray(r.reviews)) return review;
  return {
    ...r,
    reviews: r.reviews.map((x, i) => (issues[i] === undefined ? x : { ...x, issues: issues[i] })),
  };
}

export type RequestRecord = ReturnType<typeof recordView>;

/** The panel with the answers kept in `content` put back where the `quorum` record has them. */
function withAnswers(
  panel: PanelView,
  answers: (string | null)[] | undefined,
  groupAnswers: (string | null)[] | undefined,
): PanelView {
  const answer = (list: (string | null)[] | undefined, i: number) =>
    typeof list?.[i] === 'string' ? list[i] : undefined;
  return {
    ...panel,
    ...(answers && {
      candidates: panel.candidates.map((c, i) => {
        const content = answer(answers, i);
        return content === undefined ? c : { ...c, content };
      }),
    }),
    ...(groupAnswers &&
      panel.groups && {
        groups: panel.groups.map((g, i) => {
          const text = answer(groupAnswers, i);
          return text === undefined ? g : { answer: text, ...g };
        }),
      }),
  };
}
