/**
 * The filters of the request log, applied to a record as it is published to the live tail — the same
 * rules the list's SQL applies (src/store/request-log.ts), so a tail and a list with the same filters
 * show the same requests.
 */
import type { RequestLogQuery, RequestLogSummaryRow } from '../store/index.ts';

export type RequestFilter = Pick<
  RequestLogQuery,
  'team' | 'key' | 'model' | 'status' | 'surface' | 'tag' | 'q'
>;

const has = (text: string | null, needle: string) => text?.toLowerCase().includes(needle) === true;

export function matches(row: RequestLogSummaryRow, f: RequestFilter): boolean {
  if (f.team !== undefined && row.team_id !== f.team) return false;
  if (f.key !== undefined && row.key_id !== f.key && row.key_name !== f.key) return false;
  if (f.model !== undefined && row.model !== f.model && !(row.models?.split(',') ?? []).includes(f.model)) {
    return false;
  }
  if (f.status?.length && !f.status.some((r) => row.status >= r.min && row.status <= r.max)) return false;
  if (f.surface?.length && !f.surface.includes(row.surface)) return false;
  if (f.tag !== undefined) {
    const tags = row.tags ? (JSON.parse(row.tags) as Record<string, unknown>) : {};
    if (!Object.hasOwn(tags, f.tag.name)) return false;
    if (f.tag.value !== undefined && tags[f.tag.name] !== f.tag.value) return false;
  }
  if (f.q !== undefined) {
    const q = f.q.toLowerCase();
    const fields = [row.id, row.model, row.models, row.error_code, row.error_message];
    if (!fields.some((text) => has(text, q))) return false;
  }
  return true;
}
