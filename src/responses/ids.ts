/** Ids of responses and their items, shaped as OpenAI's: a prefix, `_`, 48 hex digits. */
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'resp' | 'msg' | 'fc' | 'fco';

export function itemId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/** A response id (`resp_…`): the one the stream announces is the one stored. */
export const responseId = (): string => itemId('resp');
