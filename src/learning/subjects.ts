/**
 * Who answered each recent request, in what category, for which team: what feedback and workflow
 * corrections are applied to. This instance's recent requests are kept in a bounded LRU; with a store
 * every subject is also written there in batches, so feedback reaches it from any instance.
 */
import { LRUCache } from 'lru-cache';
import type { Category } from '../../routing/types.ts';
import type { LearningRepo, SubjectRow } from '../store/index.ts';

export interface Subject {
  requestId: string;
  team: string;
  model: string;
  category: Category;
  /** When the request was answered (epoch ms). */
  at: number;
  /** When feedback (or a correction) was counted; null before. */
  feedbackAt: number | null;
}

/** Recent requests kept in memory per instance (about 200 bytes each). */
const KEPT = 20_000;

/** A workflow step's calls: `wf-<run>-<step>-<attempt>[-i<n>][-repair]` (judge calls score, they do not answer). */
function stepCall(runId: string, step: string): RegExp {
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^wf-${literal(runId)}-${literal(step)}-\\d+(?:-i\\d+)?(?:-repair)?$`);
}

export class Subjects {
  readonly #recent = new LRUCache<string, Subject>({ max: KEPT });
  readonly #repo: LearningRepo | undefined;

  constructor(repo: LearningRepo | undefined) {
    this.#repo = repo;
  }

  remember(subject: Subject): void {
    this.#recent.set(subject.requestId, subject);
  }

  /** The request's subject: this instance's memory first, then the store. */
  async find(requestId: string): Promise<Subject | undefined> {
    const recent = this.#recent.get(requestId);
    if (recent || !this.#repo) return recent;
    const row = await this.#repo.findSubject(requestId);
    if (!row) return undefined;
    const found = fromRow(row);
    this.#recent.set(found.requestId, found);
    return found;
  }

  /** The latest answer of a workflow step (a correction replaces it), from memory and the store. */
  async latestOfStep(runId: string, step: string): Promise<Subject | undefined> {
    const pattern = stepCall(runId, step);
    let latest: Subject | undefined;
    for (const s of this.#recent.values()) {
      if (pattern.test(s.requestId) && (!latest || s.at > latest.at)) latest = s;
    }
    if (this.#repo) {
      for (const row of await this.#repo.findByPrefix(`wf-${runId}-${step}-`)) {
        if (!pattern.test(row.request_id)) continue;
        if (!latest || row.created_at > latest.at) latest = this.#recent.get(row.request_id) ?? fromRow(row);
        break;
      }
    }
    return latest;
  }
}

export function toRow(s: Subject): SubjectRow {
  return {
    request_id: s.requestId,
    team_id: s.team,
    model: s.model,
    category: s.category,
    created_at: s.at,
    feedback_at: s.feedbackAt,
  };
}

function fromRow(row: SubjectRow): Subject {
  return {
    requestId: row.request_id,
    team: row.team_id,
    model: row.model,
    category: row.category as Category,
    at: row.created_at,
    feedbackAt: row.feedback_at,
  };
}
