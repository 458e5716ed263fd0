/**
 * Items of a request passed through raw, as Quorum keeps them and as it replays them. A request's own
 * input is stored as sent, but that each message, function call and function output gets the id
 * `input_items` lists it by, and a message's string content becomes its one text part (as OpenAI lists
 * it). A conversation is replayed to an upstream that keeps no state: no item goes with its id (ids
 * name stored items, and the upstream stored none), and a reasoning item goes only with its
 * `encrypted_content` (without it the upstream could only look it up by id).
 */
import { type IdPrefix, itemId } from '../ids.ts';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An item without `type` that has a `role` is a message, as OpenAI reads it. */
export function itemType(item: Json): unknown {
  return item.type ?? (typeof item.role === 'string' ? 'message' : undefined);
}

const PREFIXES: Record<string, IdPrefix> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
};

/** An item without its own `id`, and the rest in order. */
function withoutId(item: Json): Json {
  const { id: _id, ...rest } = item;
  return rest;
}

function storedItem(item: unknown): unknown {
  if (!isObject(item)) return item;
  const type = itemType(item);
  const prefix = typeof type === 'string' && Object.hasOwn(PREFIXES, type) ? PREFIXES[type] : undefined;
  if (!prefix) return item;
  const stored: Json = { id: typeof item.id === 'string' ? item.id : itemId(prefix), ...withoutId(item) };
  if (type === 'message') {
    stored.type = 'message';
    if (typeof item.content === 'string') {
      stored.content = [
        item.role === 'assistant'
          ? { type: 'output_text', text: item.content, annotations: [] }
          : { type: 'input_text', text: item.content },
      ];
    }
  }
  return stored;
}

/** The request's `input` as stored: a string is one user message. */
export function storedInput(input: string | readonly unknown[] | undefined): unknown[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [storedItem({ type: 'message', role: 'user', content: input })];
  return input.map(storedItem);
}

/** A conversation's items as the upstream is sent them, oldest first. */
export function replayed(items: readonly unknown[]): unknown[] {
  return items.flatMap((item) => {
    if (!isObject(item)) return [item];
    if (item.type === 'reasoning' && typeof item.encrypted_content !== 'string') return [];
    return [withoutId(item)];
  });
}
