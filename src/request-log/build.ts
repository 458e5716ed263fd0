/**
 * A finished request's row: the facts the server saw (status, headers, timing), what the endpoint noted
 * (the model asked, stream, tags) and what the gateway learnt (attempts, route, the panel, tokens and
 * cost). Text the client sent or got goes only into `content`, and only with content logging on.
 */
import { ledgerKeyOf } from '../gateway/index.ts';
import type { RequestLogRow } from '../store/index.ts';
import { Clipper } from './clip.ts';
import type { RequestDraft, RequestEnd } from './draft.ts';
import type { PanelView, RecordContent, RecordDetail } from './record.ts';

/** What a stream cut short by the client is recorded as (nginx's "client closed request"). */
export const CLIENT_CLOSED = 499;

/** A string column from client or upstream text: bounded, and without NUL (Postgres refuses it). */
function column(text: string | null | undefined, max: number): string | null {
  if (text === null || text === undefined) return null;
  const clean = text.includes('\0') ? text.replaceAll('\0', '') : text;
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

type Group = { answer?: unknown; members?: unknown };
type Review = { reviews?: { issues?: unknown }[] };

/** A review's verdicts without the reviewers' words (their issues are answer text: content). */
function reviewMeta(review: unknown): unknown {
  const r = review as Review | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.reviews)) return review;
  return { ...r, reviews: r.reviews.map(({ issues: _issues, ...rest }) => rest) };
}

/** Each review's issues, by index, for `content`. */
function reviewIssues(review: unknown, clip: Clipper): unknown[] | undefined {
  const r = review as Review | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.reviews)) return undefined;
  return r.reviews.map((x) => clip.value(x.issues ?? null));
}

/**
 * A fan-out's `quorum` record as a panel, without any answer text: the candidates' answers and the
 * groups' (normalised) answers are content, kept apart so that erasing content erases them too.
 */
function panelOf(answer: Readonly<Record<string, unknown>>): PanelView {
  const candidates = Array.isArray(answer.candidates) ? (answer.candidates as Record<string, unknown>[]) : [];
  const panel: PanelView = {
    strategy: String(answer.strategy),
    candidates: candidates.map(({ content: _content, ...rest }) => rest as PanelView['candidates'][number]),
  };
  for (const k of ['agreement', 'selected', 'judge', 'degraded'] as const) {
    if (answer[k] !== undefined) (panel as unknown as Record<string, unknown>)[k] = answer[k];
  }
  if (answer.review !== undefined) panel.review = reviewMeta(answer.review);
  if (Array.isArray(answer.groups)) {
    panel.groups = (answer.groups as Group[]).map(({ answer: _answer, ...rest }) => rest);
  }
  return panel;
}

export function buildRow(draft: RequestDraft, end: RequestEnd, keepContent: boolean): RequestLogRow {
  const facts = draft.request?.facts();
  let status = end.status;
  let failure = end.failure;
  // A stream that failed after it began was a 200 on the wire; its record carries the error's status.
  if (failure && status < 400) status = failure.status;
  if (!failure && end.cancelled) {
    status = CLIENT_CLOSED;
    failure = {
      status,
      code: 'client_closed_request',
      message: 'The client went away before the answer was complete.',
    };
  }

  const detail: RecordDetail = { attempts: facts?.attempts ?? [] };
  if (facts?.route) detail.route = facts.route;
  const answer = facts?.answer;
  if (answer && typeof answer.strategy === 'string') detail.panel = panelOf(answer);
  if (draft.review !== undefined) detail.review = reviewMeta(draft.review);

  let content: string | null = null;
  if (keepContent) {
    const clip = new Clipper();
    const text = draft.lateAnswer ? draft.lateAnswer() : draft.answer;
    const kept: RecordContent = {
      prompt: clip.value(draft.prompt ?? null),
      answer: text === null ? null : clip.text(text),
    };
    if (detail.panel && Array.isArray(answer?.candidates)) {
      kept.candidates = (answer.candidates as { content?: unknown }[]).map((c) =>
        typeof c.content === 'string' ? clip.text(c.content) : null,
      );
    }
    if (detail.panel && Array.isArray(answer?.groups)) {
      kept.groups = (answer.groups as Group[]).map((g) =>
        typeof g.answer === 'string' ? clip.text(g.answer) : null,
      );
    }
    const issues = reviewIssues(draft.review ?? answer?.review, clip);
    if (issues) kept.issues = issues;
    if (detail.panel && answer?.analysis !== undefined) kept.analysis = clip.value(answer.analysis);
    if (clip.truncated) kept.truncated = true;
    content = JSON.stringify(kept);
  }

  return {
    id: draft.id,
    created_at: draft.arrivedAt,
    team_id: draft.caller.team,
    key_id: ledgerKeyOf(draft.caller),
    key_name: column(draft.caller.keyName, 200),
    surface: draft.surface,
    model: column(draft.model, 256),
    models: column(end.models, 1000),
    status,
    error_code: column(failure?.code, 100),
    error_message: column(failure?.message, 2000),
    stream: draft.stream ? 1 : 0,
    cache: end.cache === 'hit' || end.cache === 'miss' ? end.cache : null,
    tags: draft.tags ? JSON.stringify(draft.tags) : null,
    input_tokens: facts?.inputTokens ?? 0,
    output_tokens: facts?.outputTokens ?? 0,
    cost_nanos: facts?.costNanos ?? 0,
    latency_ms: round3(end.endedAt - draft.startedAt),
    overhead_ms: end.overheadMs,
    detail: JSON.stringify(detail),
    content,
  };
}
