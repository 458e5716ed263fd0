/**
 * Who answered each recent request, in what category, for which team: what feedback and workflow
 * corrections are applied to. With a store every subject is written there in batches, so feedback
 * reaches it from any instance, and until its batch is written it is read from the writer's buffer;
 * memory (a bounded LRU) holds the subjects a lookup found, and every recent one only without a store.
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
  readonly #unwritten: () => readonly SubjectRow[];

  /** `unwritten`: the subjects waiting in the store's writer, not yet in the store. */
  constructor(repo: LearningRepo | undefined, unwritten: () => readonly SubjectRow[] = () => []) {
    this.#repo = repo;
    this.#unwritten = unwritten;
  }

  remember(subject: Subject): void {
    this.#recent.set(subject.requestId, subject);
  }

  /** The request's subject: this instance's memory first, then the writer's buffer, then the store. */
  async find(requestId: string): Promise<Subject | undefined> {
    const recent = this.#recent.get(requestId);
    if (recent || !this.#repo) return recent;
    const row =
      this.#unwritten().find((r) => r.request_id === requestId) ?? (await this.#repo.findSubject(requestId));
    return row ? this.#kept(fromRow(row)) : undefined;
  }

  /**
   * The one subject memory keeps for its request: what a lookup found stays, so that feedback marked
   * on it (its `feedbackAt`) holds for the next lookup before the store has it.
   */
  #kept(subject: Subject): Subject {
    const kept = this.#recent.get(subject.requestId);
    if (kept) return kept;
    this.#recent.set(subject.requestId, subject);
    return subject;
  }

  /** The latest answer of a workflow step (a correction replaces it), from memory, the buffer and the store. */
  async latestOfStep(runId: string, step: string): Promise<Subject | undefined> {
    const pattern = stepCall(runId, step);
    let latest: Subject | undefined;
    for (const s of this.#recent.values()) {
      if (pattern.test(s.requestId) && (!latest || s.at > latest.at)) latest = s;
    }
    for (const row of this.#unwritten()) {
      if (pattern.test(row.request_id) && (!latest || row.created_at > latest.at)) {
        latest = this.#kept(fromRow(row));
      }
    }
    if (this.#repo) {
      for (const row of await this.#repo.findByPrefix(`wf-${runId}-${step}-`)) {
        if (!pattern.test(row.request_id)) continue;
        if (!latest || row.created_at > latest.at) latest = this.#kept(fromRow(row));
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
