/**
 * The conversation a `previous_response_id` continues: every earlier response of it, oldest first,
 * each one's input items then its output items. Only the caller's team's responses can be continued;
 * another team's id answers as an unknown one does.
 */
import { GatewayError } from '../errors/index.ts';
import type { ResponseRecord, ResponsesRepo } from '../store/index.ts';
import type { Item } from './input.ts';

export interface Conversation {
  /** The ids of the earlier responses, oldest first: the new response's `chain`. */
  chain: string[];
  /** Their items, oldest first. */
  items: Item[];
}

export function previousNotFound(id: string, detail = ''): GatewayError {
  return new GatewayError('not_found', `Previous response with id '${id}' not found.${detail}`, {
    param: 'previous_response_id',
    code: 'previous_response_not_found',
  });
}

/**
 * A response's input items, then its output — unless it failed: a failed answer's items may be cut
 * anywhere (half a function call's arguments), so only what was asked is carried forward.
 */
const itemsOf = (record: ResponseRecord): Item[] => [
  ...(record.input as Item[]),
  ...(record.response.status === 'failed' ? [] : ((record.response.output as Item[] | undefined) ?? [])),
];

/** `team` undefined: the operator, who may continue any team's conversation. */
export async function loadConversation(
  repo: ResponsesRepo | undefined,
  previousId: string,
  team: string | undefined,
): Promise<Conversation> {
  const previous = await repo?.get(previousId, team);
  if (!previous) {
    throw previousNotFound(
      previousId,
      repo ? '' : ' This gateway runs without a store, so it keeps no responses.',
    );
  }
  const ancestors = await repo!.getMany(previous.chain, team);
  if (ancestors.length !== previous.chain.length) {
    const have = new Set(ancestors.map((a) => a.id));
    const gone = previous.chain.find((id) => !have.has(id))!;
    throw previousNotFound(
      previousId,
      ` Its conversation includes the response '${gone}', which was deleted; start again from a later one or send the whole history as input.`,
    );
  }
  const records = [...ancestors, previous];
  return { chain: records.map((r) => r.id), items: records.flatMap(itemsOf) };
}
