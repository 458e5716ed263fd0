/**
 * Stored Responses API objects (`store: true`, the default): each keeps the request's input items and
 * the Response the client received, so it can be read back, listed item by item, deleted, and
 * continued with `previous_response_id`. A row also lists the ids of every earlier response of its
 * conversation (`chain`), so a follow-up loads its whole history in one query however long it is.
 *
 * Every read and delete takes the caller's team: another team's response answers exactly as an
 * unknown id does. `team` undefined is the operator's view (every team's).
 */
import type { StoreContext } from './context.ts';
import { StoreError } from './errors.ts';
import type { ResponsesTable } from './types.ts';

export interface ResponseRecord {
  id: string;
  team: string;
  keyId: string | null;
  previousResponseId: string | null;
  /** Earlier responses of the conversation, oldest first (not including this one). */
  chain: string[];
  /** The request's own input items, as listed by `GET /v1/responses/{id}/input_items`. */
  input: unknown[];
  /** The Response object as the client received it. */
  response: Record<string, unknown>;
  /** Epoch ms. */
  createdAt: number;
}

export type NewResponseRecord = Omit<ResponseRecord, 'createdAt'>;

function json(value: unknown, param: string): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new StoreError('invalid', `${param}: cannot be stored as JSON (${(err as Error).message})`, param);
  }
}

function toRecord(row: ResponsesTable): ResponseRecord {
  return {
    id: row.id,
    team: row.team_id,
    keyId: row.key_id,
    previousResponseId: row.previous_response_id,
    chain: JSON.parse(row.chain) as string[],
    input: JSON.parse(row.input) as unknown[],
    response: JSON.parse(row.response) as Record<string, unknown>,
    createdAt: Number(row.created_at),
  };
}

export class ResponsesRepo {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Stores a finished response; its id must be new (StoreError `conflict` otherwise). */
  async save(record: NewResponseRecord): Promise<ResponseRecord> {
    const row: ResponsesTable = {
      id: record.id,
      team_id: record.team,
      key_id: record.keyId,
      previous_response_id: record.previousResponseId,
      chain: json(record.chain, 'chain'),
      input: json(record.input, 'input'),
      response: json(record.response, 'response'),
      created_at: this.#ctx.now(),
    };
    const result = await this.#ctx.db
      .insertInto('responses')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) {
      throw new StoreError('conflict', `response "${record.id}" already exists`, 'id');
    }
    return { ...record, createdAt: row.created_at };
  }

  /** The response with this id, when it is the team's (any team's for `team` undefined). */
  async get(id: string, team?: string): Promise<ResponseRecord | null> {
    let query = this.#ctx.db.selectFrom('responses').selectAll().where('id', '=', id);
    if (team !== undefined) query = query.where('team_id', '=', team);
    const row = await query.executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** The responses among `ids` that exist (and are the team's), in the order of `ids`. */
  async getMany(ids: readonly string[], team?: string): Promise<ResponseRecord[]> {
    if (ids.length === 0) return [];
    let query = this.#ctx.db
      .selectFrom('responses')
      .selectAll()
      .where('id', 'in', [...ids]);
    if (team !== undefined) query = query.where('team_id', '=', team);
    const byId = new Map((await query.execute()).map((row) => [row.id, toRecord(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Deletes the response; false when there is none with this id for the team. */
  async delete(id: string, team?: string): Promise<boolean> {
    let query = this.#ctx.db.deleteFrom('responses').where('id', '=', id);
    if (team !== undefined) query = query.where('team_id', '=', team);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
