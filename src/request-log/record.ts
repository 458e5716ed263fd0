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
  groups?: unknown;
  selected?: { index: number; model: string };
  judge?: { model: string; rationale: string };
  degraded?: string[];
  /** The review strategy's verdict and reviews. */
  review?: unknown;
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

/** The whole record; `content` (and candidates' answers) only while the operator has content logging on. */
export function recordView(row: RequestLogRow, showContent: boolean) {
  const detail = row.detail ? (JSON.parse(row.detail) as RecordDetail) : { attempts: [] };
  const content = showContent && row.content ? (JSON.parse(row.content) as RecordContent) : null;
  const { candidates, ...text } = content ?? {};
  return {
    ...summaryView(row),
    attempts: detail.attempts,
    route: detail.route ?? null,
    panel: detail.panel ? withAnswers(detail.panel, candidates) : null,
    review: detail.review ?? null,
    content: content ? (text as Omit<RecordContent, 'candidates'>) : null,
  };
}

export type RequestRecord = ReturnType<typeof recordView>;

function withAnswers(panel: PanelView, answers: (string | null)[] | undefined): PanelView {
  if (!answers) return panel;
  return {
    ...panel,
    candidates: panel.candidates.map((c, i) =>
      typeof answers[i] === 'string' ? { ...c, content: answers[i] } : c,
    ),
  };
}
