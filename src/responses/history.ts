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

const CHAT_ITEMS = new Set(['message', 'function_call', 'function_call_output']);

/**
 * A conversation's items as the translation carries them to a chat call: messages, function calls and
 * their outputs. A response that was passed through raw may also hold reasoning and built-in tool
 * items, which no chat call can carry; the answer they led to is in the messages that follow them.
 * A message's string content (as a client may send it) is its one text part.
 */
export function chatHistory(items: readonly unknown[]): Item[] {
  return items.flatMap((item): Item[] => {
    if (typeof item !== 'object' || item === null) return [];
    const i = item as Record<string, unknown>;
    const type = i.type ?? (typeof i.role === 'string' ? 'message' : undefined);
    if (typeof type !== 'string' || !CHAT_ITEMS.has(type)) return [];
    if (type !== 'message' || Array.isArray(i.content)) return [{ ...i, type } as Item];
    const text = typeof i.content === 'string' ? i.content : '';
    const part =
      i.role === 'assistant' ? { type: 'output_text', text, annotations: [] } : { type: 'input_text', text };
    return [{ ...i, type, content: [part] } as Item];
  });
}
